import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../errors.js";
import { tailFilterQuery, toTailFilter } from "../tail/filter-query.js";
import { traceView } from "../tail/trace-view.js";
import { checkNameParam, type NameParams } from "./scripts/params.js";
import { timeParam } from "./since.js";
import type { RouteDeps } from "./types.js";
import { parseQuery } from "./validation.js";

const logsQuery = tailFilterQuery.omit({ sample: true }).extend({
  since: timeParam().optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
});

/**
 * `GET /v1/scripts/:name/logs?since=15m&limit=100` (+ the tail's filters):
 * request summaries and errors the nodes kept, newest last, gathered from
 * every connected node (those that did not answer in time are listed in
 * `nodes.missing`). Default: the last 15 minutes, 100 entries.
 */
export const logsRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, tail }) => {
  app.addHook("onRequest", checkNameParam);

  app.get<{ Params: NameParams }>("/scripts/:name/logs", async (request) => {
    const { name } = request.params;
    const query = parseQuery(logsQuery, request.query);
    if ((await store.getSummary(name)) === null) {
      throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    }
    const sinceMs = query.since ?? Date.now() - 15 * 60_000;
    const result = await tail.queryLogs(name, {
      sinceMs,
      limit: query.limit ?? 100,
      filter: toTailFilter({ ...query, sample: undefined }),
    });
    return {
      script: name,
      since: new Date(sinceMs).toISOString(),
      logs: result.traces.map(traceView),
      truncated: result.truncated,
      nodes: { answered: result.answered, missing: result.missing },
    };
  });
};
