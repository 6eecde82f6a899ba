import type { FastifyPluginAsync } from "fastify";
import type { RouteDeps } from "./types.js";

export const nodeRoutes: FastifyPluginAsync<RouteDeps> = async (app, { hub }) => {
  // `settled: false`: this replica started recently and nodes are still reconnecting (see `viewSettled`).
  app.get("/nodes", async () => ({ nodes: hub.nodes(), settled: hub.viewSettled() }));
};
