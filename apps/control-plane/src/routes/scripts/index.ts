import type { FastifyPluginAsync } from "fastify";
import type { RouteDeps } from "../types.js";
import { deleteRoute } from "./delete.js";
import { deployRoute } from "./deploy.js";
import { envRoutes } from "./env.js";
import { checkNameParam } from "./params.js";
import { readRoutes } from "./read.js";
import { rollbackRoute } from "./rollback.js";
import { rolloutRoutes } from "./rollout.js";
import { scheduledRoute } from "./scheduled.js";

/** Everything under `/v1/scripts`. The name check runs before any body is read. */
export const scriptRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.addHook("onRequest", checkNameParam);
  await app.register(deployRoute, deps);
  await app.register(readRoutes, deps);
  await app.register(envRoutes, deps);
  await app.register(rollbackRoute, deps);
  await app.register(rolloutRoutes, deps);
  await app.register(deleteRoute, deps);
  await app.register(scheduledRoute, deps);
};
