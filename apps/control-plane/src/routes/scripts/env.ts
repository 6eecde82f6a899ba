import type { FastifyPluginAsync } from "fastify";
import { EdgeError } from "../../errors.js";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import {
  applySecretsChange,
  applyVarsChange,
  checkEnvNames,
  parseEnvChange,
  secretSealer,
} from "./env-settings.js";
import type { NameParams } from "./params.js";
import { presentVersion, type VersionView } from "./present.js";
import { retryOnConflict } from "./retry-conflict.js";

/**
 * `PUT /scripts/:name/vars` and `PUT /scripts/:name/secrets`: a new version
 * with the active version's code and limits and the changed settings, made
 * active at once (ending any gradual rollout, as a deploy does). Settings
 * live in versions, so a rollback restores code and settings together.
 *
 * The new version is put only if the version it was derived from is still the
 * active one (`ifActive`), re-read and retried otherwise: two concurrent
 * changes (vars here, secrets there) both land instead of one erasing the other.
 */
export const envRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, store, hub }) => {
  for (const key of ["vars", "secrets"] as const) {
    app.put<{ Params: NameParams }>(`/scripts/:name/${key}`, async (request, reply): Promise<VersionView> => {
      const { name } = request.params;
      const change = parseEnvChange(key, request.body);
      const seal = secretSealer(config, name);
      const { from, stored } = await retryOnConflict(name, async () => {
        const active = await store.getActive(name);
        if (active === null) throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
        const vars = key === "vars" ? applyVarsChange(active.vars, change) : active.vars;
        const secrets = key === "secrets" ? applySecretsChange(active.secrets, change, seal) : active.secrets;
        checkEnvNames(vars, secrets);
        const { sha256, source, tsSource, modules, limits, bindings, crons } = active;
        const input = { sha256, source, tsSource, modules, vars, secrets, limits, bindings, crons };
        const stored = await store.putVersion(name, input, Date.now(), { ifActive: active.version });
        return { from: active.version, stored };
      });
      // Names only: values of secrets never reach a log.
      request.log.info(
        {
          script: name,
          version: stored.version,
          from,
          [key]: Object.keys(key === "vars" ? stored.vars : stored.secrets),
        },
        `script ${key} changed`,
      );
      notifyChanged(hub, request.log);
      reply.status(201).header("location", `/v1/scripts/${name}`);
      return presentVersion(stored, stored.version);
    });
  }
};
