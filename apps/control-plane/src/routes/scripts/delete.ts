import type { FastifyPluginAsync } from "fastify";
import { EdgeError } from "../../errors.js";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import type { NameParams } from "./params.js";

/** `DELETE /scripts/:name`: the script and its versions go; its version numbers are never reused. */
export const deleteRoute: FastifyPluginAsync<RouteDeps> = async (app, { store, hub }) => {
  app.delete<{ Params: NameParams }>("/scripts/:name", async (request, reply) => {
    const { name } = request.params;
    if (!(await store.deleteScript(name))) {
      throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    }
    request.log.info({ script: name }, "script deleted");
    notifyChanged(hub, request.log);
    return reply.status(204).send();
  });
};
