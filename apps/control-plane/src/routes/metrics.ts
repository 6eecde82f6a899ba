import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../errors.js";
import { scriptName } from "./scripts/params.js";
import { timeParam } from "./since.js";
import type { RouteDeps } from "./types.js";
import { parseQuery } from "./validation.js";

const metricsQuery = z.object({
  script: scriptName.optional(),
  pop: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, "not a PoP code")
    .optional(),
  since: timeParam().optional(),
  until: timeParam().optional(),
});

/**
 * `GET /v1/metrics?script=&pop=&since=&until=`: per script totals, p50/p90/p99,
 * per version, per node and a 1-minute series over the window (default the
 * last hour), plus every node's latest node-wide figures.
 */
export const metricsRoutes: FastifyPluginAsync<RouteDeps> = async (app, { metrics }) => {
  app.get("/metrics", async (request) => {
    const query = parseQuery(metricsQuery, request.query);
    if (query.since !== undefined && query.until !== undefined && query.since > query.until) {
      throw new EdgeError("EDGE_INVALID_QUERY", "since is after until");
    }
    return metrics.query(query);
  });
};
