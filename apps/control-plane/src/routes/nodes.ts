import type { FastifyPluginAsync } from "fastify";
import type { RouteDeps } from "./types.js";

export const nodeRoutes: FastifyPluginAsync<RouteDeps> = async (app, { hub }) => {
  app.get("/nodes", async () => ({ nodes: hub.nodes() }));
};
