import type { FastifyPluginAsync } from "fastify";
import { EdgeError, errorBody, isEdgeError } from "../errors.js";
import type { Store } from "../store/types.js";

/** Liveness and readiness, outside `/v1` and without auth (for load balancers and orchestrators). */
export const healthRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    try {
      await store.ping();
      return { status: "ok" };
    } catch (error) {
      const edge = isEdgeError(error)
        ? error
        : new EdgeError("EDGE_STORE_UNAVAILABLE", undefined, { cause: error });
      request.log.warn({ err: edge }, "not ready: store ping failed");
      return reply.status(503).send(errorBody(edge));
    }
  });
};
