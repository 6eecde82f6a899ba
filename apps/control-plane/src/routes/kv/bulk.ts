import { KV_LIMITS } from "@edge/protocol";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { KvMutation } from "../../store/kv-types.js";
import type { RouteDeps } from "../types.js";
import { describeIssues } from "../validation.js";
import { type NsParams, namespaceOf } from "./namespaces.js";
import { checkKey, checkMetadata, checkValueSize, resolveExpiration } from "./validate.js";

const writeEntries = z
  .array(
    z.strictObject({
      key: z.string(),
      value: z.string(),
      base64: z.boolean().optional(),
      expiration: z.number().int().optional(),
      expiration_ttl: z.number().int().optional(),
      metadata: z.unknown().optional(),
    }),
  )
  .max(KV_LIMITS.maxBulkWriteEntries);

const deleteKeys = z.array(z.string()).max(KV_LIMITS.maxBulkWriteEntries);

function parseArray<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new EdgeError("EDGE_INVALID_BODY", describeIssues(parsed.error));
  return parsed.data;
}

/**
 * Bulk writes in Cloudflare's format: `PUT /kv/namespaces/:ns/bulk` with
 * `[{ key, value, base64?, expiration?, expiration_ttl?, metadata? }]` and
 * `POST /kv/namespaces/:ns/bulk/delete` with `["key", …]` (up to 10,000
 * each). Every entry is checked first; then all are written in one atomic step.
 */
export const bulkRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, kv, config }) => {
  const bodyLimit = Math.max(config.maxScriptBytes * 2, 100 * 1024 * 1024);

  app.put<{ Params: NsParams }>("/kv/namespaces/:ns/bulk", { bodyLimit }, async (request) => {
    const entries = parseArray(writeEntries, request.body);
    const ns = await namespaceOf(store, request.params.ns);
    const now = Date.now();
    const mutations: KvMutation[] = entries.map((entry) => {
      const value = entry.base64 ? Buffer.from(entry.value, "base64") : Buffer.from(entry.value, "utf8");
      checkValueSize(value.byteLength);
      return {
        key: checkKey(entry.key),
        value,
        metadata: checkMetadata(entry.metadata),
        expiration: resolveExpiration(entry.expiration, entry.expiration_ttl, now),
      };
    });
    if (mutations.length > 0) await store.writeKv(ns.id, mutations);
    kv.changed();
    return { written: mutations.length };
  });

  app.post<{ Params: NsParams }>("/kv/namespaces/:ns/bulk/delete", async (request) => {
    const keys = parseArray(deleteKeys, request.body).map(checkKey);
    const ns = await namespaceOf(store, request.params.ns);
    if (keys.length > 0)
      await store.writeKv(
        ns.id,
        keys.map((key) => ({ key, delete: true as const })),
      );
    kv.changed();
    return { deleted: keys.length };
  });
};
