import { versionDigest } from "@edge/protocol";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { z } from "zod";
import { isEdgeError } from "../../errors.js";
import type { ScriptVersion, VersionModules } from "../../store/types.js";
import { checkBindingNames, resolveBindings } from "../kv/bindings.js";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import { parseQuery } from "../validation.js";
import { ActiveHints, type ActiveSettings } from "./active-hints.js";
import {
  type DeployInput,
  JAVASCRIPT_TYPES,
  MULTIPART,
  parseDeployBody,
  TYPESCRIPT_TYPES,
} from "./deploy-body.js";
import { checkEnvNames, secretSealer } from "./env-settings.js";
import { createModuleCheck, type ModuleCheck } from "./module-check.js";
import { envelopeFromMultipart } from "./multipart-upload.js";
import type { NameParams } from "./params.js";
import { iso } from "./present.js";
import { retryOnConflict } from "./retry-conflict.js";
import { validateModules } from "./validate-modules.js";
import { validateSource } from "./validate-source.js";

export interface DeployReply {
  name: string;
  version: number;
  sha256: string;
  createdAt: string;
}

/**
 * The code a version stores: one module's JavaScript (TypeScript compiled),
 * or the main module's source and the other modules of a multi-module deploy.
 */
async function validatedCode(
  name: string,
  input: DeployInput,
  quick: ModuleCheck,
): Promise<{ source: string; modules: VersionModules | null }> {
  if (input.modules === undefined) {
    return { source: await validateSource(name, input.source, input.language, quick), modules: null };
  }
  await validateModules(input.modules);
  const { main } = input.modules;
  return {
    source: input.source,
    modules: { main, modules: input.modules.modules.filter((m) => m.name !== main) },
  };
}

/** `?activate=false` stores the version for a gradual rollout instead of activating it. */
const deployQuery = z.object({ activate: z.enum(["true", "false"]).optional() });

/**
 * `PUT /scripts/:name`: validate (and compile TypeScript), store a new version,
 * make it active (unless `?activate=false`; a script's first version is always
 * active), then tell the hub. Vars and secrets the deploy does not name are
 * kept from the active version, so a code deploy leaves settings alone (put
 * only if that version is still active, else re-read: a concurrent settings
 * change is kept, not overwritten). The active version's settings come from
 * `ActiveHints` when this replica knows them (no read), else from the store.
 * Registered in its own context so only this route accepts a raw source body
 * (capped at exactly `EDGE_MAX_SCRIPT_BYTES`).
 */
export const deployRoute: FastifyPluginAsync<RouteDeps> = async (app, { config, store, hub }) => {
  const hints = new ActiveHints();
  const quick = createModuleCheck((err) =>
    app.log.warn({ err }, "the module syntax check's worker failed; esbuild checks deploys meanwhile"),
  );
  app.addHook("onClose", () => quick.close());
  app.addContentTypeParser(
    [...JAVASCRIPT_TYPES, ...TYPESCRIPT_TYPES],
    { parseAs: "string", bodyLimit: config.maxScriptBytes },
    (_request, body, done) => done(null, body),
  );
  app.addContentTypeParser(
    MULTIPART,
    // The app-wide body limit applies (twice the script limit and some, as for JSON).
    { parseAs: "buffer" },
    async (request: FastifyRequest, body: Buffer) =>
      envelopeFromMultipart(body, request.headers["content-type"] ?? ""),
  );

  app.put<{ Params: NameParams }>("/scripts/:name", async (request, reply): Promise<DeployReply> => {
    const { name } = request.params;
    const activate = parseQuery(deployQuery, request.query).activate !== "false";
    const input = parseDeployBody(request, config);
    const { source, modules } = await validatedCode(name, input, quick);
    const sha256 = versionDigest(source, modules?.main, modules?.modules);
    const inherits =
      input.vars === undefined ||
      input.secrets === undefined ||
      input.bindings === undefined ||
      input.crons === undefined;
    const requested = input.bindings === undefined ? undefined : await resolveBindings(store, input.bindings);
    const sealed = input.secrets === undefined ? undefined : secretSealer(config, name)(input.secrets);
    const put = async (previous: ActiveSettings | null): Promise<ScriptVersion> => {
      const vars = input.vars ?? previous?.vars ?? {};
      const secrets = sealed ?? previous?.secrets ?? {};
      const bindings = requested ?? previous?.bindings ?? {};
      const crons = input.crons ?? previous?.crons ?? [];
      checkEnvNames(vars, secrets);
      checkBindingNames(bindings, vars, secrets);
      const tsSource = input.language === "ts" ? input.source : null;
      const stored = await store.putVersion(
        name,
        { sha256, source, tsSource, modules, vars, secrets, limits: input.limits, bindings, crons },
        Date.now(),
        inherits ? { activate, ifActive: previous?.version ?? null } : { activate },
      );
      // What is active now: the new version (a script's first is always made active), else `previous`.
      if (activate || (inherits && previous === null)) hints.remember(name, stored);
      else if (!inherits) hints.forget(name);
      return stored;
    };
    const stored = await retryOnConflict(name, async () => {
      const hinted = inherits ? hints.get(name) : undefined;
      if (hinted !== undefined) {
        try {
          return await put(hinted);
        } catch (error) {
          // Refused on a stale hint (the put, or a name check on its settings): decide on a fresh read.
          hints.forget(name);
          if (!isEdgeError(error) || error.kind !== "user") throw error;
        }
      }
      const previous = inherits ? await store.getActive(name) : null;
      hints.remember(name, previous);
      return put(previous);
    });
    request.log.info(
      { script: name, version: stored.version, sha256, language: input.language, activate },
      "script deployed",
    );
    notifyChanged(hub, request.log);
    reply.status(201).header("location", `/v1/scripts/${name}`);
    return { name, version: stored.version, sha256, createdAt: iso(stored.createdAt) };
  });
};
