import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import { parseBody } from "../validation.js";
import type { NameParams } from "./params.js";
import { presentScript } from "./present.js";

const rollbackBody = z.strictObject({ version: z.number().int().positive().optional() });

/**
 * `POST /scripts/:name/rollback { version }`: make an earlier (or any
 * existing) version active again, ending any gradual rollout. Without a
 * version, while a gradual rollout runs: end it, every node back on the
 * active version.
 */
export const rollbackRoute: FastifyPluginAsync<RouteDeps> = async (app, { store, hub }) => {
  app.post<{ Params: NameParams }>("/scripts/:name/rollback", async (request) => {
    const { name } = request.params;
    const { version } = parseBody(rollbackBody, request.body ?? {});
    const current = await store.getSummary(name);
    if (current === null) {
      throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    }
    if (version === undefined) {
      if (current.rollout === null) {
        throw new EdgeError("EDGE_INVALID_BODY", "version: required (no gradual rollout is in progress)");
      }
      const aborted = await store.finishRollout(name, "abort");
      const active = aborted === null ? null : await store.getVersion(name, aborted.activeVersion);
      if (aborted === null || active === null) throw new EdgeError("EDGE_NO_ROLLOUT");
      request.log.info({ script: name, version: current.rollout.version }, "gradual rollout rolled back");
      notifyChanged(hub, request.log);
      return presentScript(active, aborted);
    }
    const summary = await store.setActive(name, version);
    const active = summary === null ? null : await store.getVersion(name, version);
    if (summary === null || active === null) {
      throw new EdgeError("EDGE_VERSION_NOT_FOUND", `Script ${name} has no version ${version}`);
    }
    request.log.info({ script: name, version }, "script rolled back");
    notifyChanged(hub, request.log);
    return presentScript(active, summary);
  });
};
