import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { scriptName } from "./scripts/params.js";
import type { RouteDeps } from "./types.js";
import { parseQuery } from "./validation.js";

const metricsQuery = z.object({ script: scriptName.optional() });

export const metricsRoutes: FastifyPluginAsync<RouteDeps> = async (app, { metrics }) => {
  app.get("/metrics", async (request) => {
    const { script } = parseQuery(metricsQuery, request.query);
    return metrics.view(script);
  });
};
