import type { FastifyPluginAsync } from "fastify";
import type { RouteDeps } from "../types.js";
import { bulkRoutes } from "./bulk.js";
import { namespaceRoutes } from "./namespaces.js";
import { valueRoutes } from "./values.js";

/** Everything under `/v1/kv`: namespaces, values, keys, bulk writes. */
export const kvRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  await app.register(namespaceRoutes, deps);
  await app.register(bulkRoutes, deps);
  await app.register(valueRoutes, deps);
};
