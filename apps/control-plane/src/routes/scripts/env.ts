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

/**
 * `PUT /scripts/:name/vars` and `PUT /scripts/:name/secrets`: a new version
 * with the active version's code and limits and the changed settings, made
 * active at once (ending any gradual rollout, as a deploy does). Settings
 * live in versions, so a rollback restores code and settings together.
 */
export const envRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, store, hub }) => {
  for (const key of ["vars", "secrets"] as const) {
    app.put<{ Params: NameParams }>(`/scripts/:name/${key}`, async (request, reply): Promise<VersionView> => {
      const { name } = request.params;
      const change = parseEnvChange(key, request.body);
      const active = await store.getActive(name);
      if (active === null) throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
      const vars = key === "vars" ? applyVarsChange(active.vars, change) : active.vars;
      const secrets =
        key === "secrets"
          ? applySecretsChange(active.secrets, change, secretSealer(config, name))
          : active.secrets;
      checkEnvNames(vars, secrets);
      const stored = await store.putVersion(name, {
        sha256: active.sha256,
        source: active.source,
        tsSource: active.tsSource,
        vars,
        secrets,
        limits: active.limits,
      });
      // Names only: values of secrets never reach a log.
      request.log.info(
        {
          script: name,
          version: stored.version,
          from: active.version,
          [key]: Object.keys(key === "vars" ? vars : secrets),
        },
        `script ${key} changed`,
      );
      notifyChanged(hub, request.log);
      reply.status(201).header("location", `/v1/scripts/${name}`);
      return presentVersion(stored, stored.version);
    });
  }
};
