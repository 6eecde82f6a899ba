import { createHash } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { notifyChanged } from "../notify.js";
import type { RouteDeps } from "../types.js";
import { parseQuery } from "../validation.js";
import { JAVASCRIPT_TYPES, parseDeployBody } from "./deploy-body.js";
import type { NameParams } from "./params.js";
import { iso } from "./present.js";
import { validateSource } from "./validate-source.js";

export interface DeployReply {
  name: string;
  version: number;
  sha256: string;
  createdAt: string;
}

/** `?activate=false` stores the version for a gradual rollout instead of activating it. */
const deployQuery = z.object({ activate: z.enum(["true", "false"]).optional() });

/**
 * `PUT /scripts/:name`: validate, store a new version, make it active (unless
 * `?activate=false`; a script's first version is always active), then tell
 * the hub. Registered in its own context so only this route accepts a raw
 * JavaScript body (capped at exactly `EDGE_MAX_SCRIPT_BYTES`).
 */
export const deployRoute: FastifyPluginAsync<RouteDeps> = async (app, { config, store, hub }) => {
  app.addContentTypeParser(
    [...JAVASCRIPT_TYPES],
    { parseAs: "string", bodyLimit: config.maxScriptBytes },
    (_request, body, done) => done(null, body),
  );

  app.put<{ Params: NameParams }>("/scripts/:name", async (request, reply): Promise<DeployReply> => {
    const { name } = request.params;
    const activate = parseQuery(deployQuery, request.query).activate !== "false";
    const input = parseDeployBody(request, config);
    await validateSource(name, input.source);
    const sha256 = createHash("sha256").update(input.source, "utf8").digest("hex");
    const stored = await store.putVersion(name, { sha256, ...input }, Date.now(), { activate });
    request.log.info({ script: name, version: stored.version, sha256, activate }, "script deployed");
    notifyChanged(hub, request.log);
    reply.status(201).header("location", `/v1/scripts/${name}`);
    return { name, version: stored.version, sha256, createdAt: iso(stored.createdAt) };
  });
};
