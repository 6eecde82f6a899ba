import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { ScriptSummary } from "../../store/types.js";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import { parseBody } from "../validation.js";
import type { NameParams } from "./params.js";
import {
  presentScript,
  presentStaged,
  type RolloutEntry,
  rollout,
  type ScriptView,
  type StagedView,
} from "./present.js";

const POP = /^[a-z0-9-]{1,32}$/;

const deployBody = z.union([
  z.strictObject({ version: z.number().int().positive(), percent: z.number().int().min(1).max(100) }),
  z.strictObject({
    version: z.number().int().positive(),
    pops: z
      .array(z.string().regex(POP, "a PoP code such as fra"))
      .min(1)
      .max(256)
      .refine((pops) => new Set(pops).size === pops.length, "PoPs must not repeat"),
  }),
]);

export interface RolloutReply extends ScriptView {
  staged: StagedView | null;
  rollout: RolloutEntry[];
}

/**
 * Gradual rollouts of an existing version:
 * - `POST /scripts/:name/deploy { version, percent }` runs `version` on that
 *   share of every PoP's clients (nodes split by a hash of the client, so a
 *   client keeps seeing one version), `{ version, pops }` on all the traffic of
 *   the named PoPs; the active version serves the rest. Again replaces it.
 * - `POST /scripts/:name/promote`: the rolled-out version becomes active everywhere.
 * - `POST /scripts/:name/rollback` without a version ends the rollout instead
 *   (see rollback.ts): every node back on the active version.
 * Store a version without activating it with `PUT /scripts/:name?activate=false`.
 */
export const rolloutRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, hub }) => {
  const reply = async (name: string, summary: ScriptSummary): Promise<RolloutReply> => {
    const active = await store.getVersion(name, summary.activeVersion);
    if (active === null) throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    return {
      ...presentScript(active, summary),
      staged: presentStaged(summary.rollout),
      rollout: rollout(name, hub.nodes()),
    };
  };

  app.post<{ Params: NameParams }>("/scripts/:name/deploy", async (request) => {
    const { name } = request.params;
    const target = parseBody(deployBody, request.body);
    const summary = await store.getSummary(name);
    if (summary === null) throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    if (target.version === summary.activeVersion) {
      throw new EdgeError(
        "EDGE_ROLLOUT_CONFLICT",
        `Version ${target.version} of ${name} is already active; store a new one with PUT ?activate=false`,
      );
    }
    const started = await store.startRollout(name, target);
    if (started === null) {
      throw new EdgeError("EDGE_VERSION_NOT_FOUND", `Script ${name} has no version ${target.version}`);
    }
    request.log.info({ script: name, ...target }, "gradual rollout started");
    notifyChanged(hub, request.log);
    return reply(name, started);
  });

  app.post<{ Params: NameParams }>("/scripts/:name/promote", async (request) => {
    const { name } = request.params;
    if ((await store.getSummary(name)) === null) {
      throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    }
    const promoted = await store.finishRollout(name, "promote");
    if (promoted === null) throw new EdgeError("EDGE_NO_ROLLOUT", `Script ${name} has no rollout to promote`);
    request.log.info({ script: name, version: promoted.activeVersion }, "rollout promoted");
    notifyChanged(hub, request.log);
    return reply(name, promoted);
  });
};
