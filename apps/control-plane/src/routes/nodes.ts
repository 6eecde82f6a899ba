import type { FastifyPluginAsync } from "fastify";
import type { RouteDeps } from "./types.js";

/**
 * Nodes as the hub sees them, with their Workers KV replication lag when this replica streams to
 * them; `settled: false`: this replica started recently and nodes are still reconnecting (see `viewSettled`).
 */
export const nodeRoutes: FastifyPluginAsync<RouteDeps> = async (app, { hub, kv }) => {
  app.get("/nodes", async () => ({
    nodes: hub.nodes().map((node) => ({ ...node, kv: kv.nodeLag?.(node.id) ?? null })),
    settled: hub.viewSettled(),
  }));
};
