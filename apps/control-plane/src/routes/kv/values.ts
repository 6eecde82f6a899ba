import { KV_LIMITS } from "@edge/protocol";
import type { FastifyPluginAsync } from "fastify";
import { EdgeError } from "../../errors.js";
import type { RouteDeps } from "../types.js";
import { parseQuery } from "../validation.js";
import { type NsParams, namespaceOf } from "./namespaces.js";
import {
  checkKey,
  checkValueSize,
  expirationQuery,
  listQuery,
  parseMetadataText,
  resolveExpiration,
} from "./validate.js";

type KeyParams = NsParams & { "*": string };

/** Header carrying a value's metadata (JSON text) on PUT, and on GET when the value has some. */
export const METADATA_HEADER = "x-edge-kv-metadata";
/** Header carrying a value's expiration (epoch seconds) on GET. */
export const EXPIRATION_HEADER = "x-edge-kv-expiration";

/**
 * Values at `/kv/namespaces/:ns/values/<key>` (the key URL-encoded; it may
 * contain `/`): PUT stores the raw body (any content type, up to 25 MiB) with
 * `?expiration=` / `?expiration_ttl=` and JSON metadata in the
 * `x-edge-kv-metadata` header; GET returns the bytes (404 when absent or
 * expired); DELETE removes (204, also when absent, like Cloudflare). Keys are
 * listed at `/kv/namespaces/:ns/keys?prefix=&limit=&cursor=`, and a value's
 * metadata read as JSON at `/kv/namespaces/:ns/metadata/<key>`.
 */
export const valueRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, kv }) => {
  // A declared length over the limit is refused before the body is read, with the KV error.
  app.addHook("onRequest", async (request) => {
    const length = Number(request.headers["content-length"] ?? 0);
    if (request.method === "PUT" && length > KV_LIMITS.maxValueBytes) checkValueSize(length);
  });
  // Values are bytes, whatever their content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: KV_LIMITS.maxValueBytes + 1 },
    (_request, body, done) => done(null, body),
  );

  app.put<{ Params: KeyParams }>("/kv/namespaces/:ns/values/*", async (request, reply) => {
    const key = checkKey(request.params["*"]);
    const ns = await namespaceOf(store, request.params.ns);
    const query = parseQuery(expirationQuery, request.query);
    const expiration = resolveExpiration(query.expiration, query.expiration_ttl, Date.now());
    const header = request.headers[METADATA_HEADER];
    const metadata = parseMetadataText(Array.isArray(header) ? header[0] : header);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    checkValueSize(body.byteLength);
    const [version] = (await store.writeKv(ns.id, [{ key, value: body, metadata, expiration }])) ?? [];
    if (version === undefined) throw new EdgeError("EDGE_KV_NAMESPACE_NOT_FOUND");
    kv.changed();
    reply.status(200);
    return { key, version, expiration };
  });

  app.get<{ Params: KeyParams }>("/kv/namespaces/:ns/values/*", async (request, reply) => {
    const key = checkKey(request.params["*"]);
    const ns = await namespaceOf(store, request.params.ns);
    const entry = await store.readKv(ns.id, key);
    if (entry === null) throw new EdgeError("EDGE_KV_KEY_NOT_FOUND", `No key '${key}' in '${ns.name}'`);
    reply.header("content-type", "application/octet-stream");
    if (entry.expiration !== null) reply.header(EXPIRATION_HEADER, String(entry.expiration));
    // Header values are ASCII: JSON's \u escapes keep any metadata representable.
    if (entry.metadata !== null) reply.header(METADATA_HEADER, asciiJson(entry.metadata));
    return Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength);
  });

  app.get<{ Params: KeyParams }>("/kv/namespaces/:ns/metadata/*", async (request) => {
    const key = checkKey(request.params["*"]);
    const ns = await namespaceOf(store, request.params.ns);
    const entry = await store.readKv(ns.id, key);
    if (entry === null) throw new EdgeError("EDGE_KV_KEY_NOT_FOUND", `No key '${key}' in '${ns.name}'`);
    return {
      key,
      metadata: entry.metadata === null ? null : JSON.parse(entry.metadata),
      expiration: entry.expiration,
    };
  });

  app.delete<{ Params: KeyParams }>("/kv/namespaces/:ns/values/*", async (request, reply) => {
    const key = checkKey(request.params["*"]);
    const ns = await namespaceOf(store, request.params.ns);
    await store.writeKv(ns.id, [{ key, delete: true }]);
    kv.changed();
    reply.status(204);
  });

  app.get<{ Params: NsParams }>("/kv/namespaces/:ns/keys", async (request) => {
    const query = parseQuery(listQuery, request.query);
    const ns = await namespaceOf(store, request.params.ns);
    const page = await store.listKv(ns.id, {
      limit: query.limit ?? KV_LIMITS.maxListLimit,
      ...(query.prefix !== undefined ? { prefix: query.prefix } : {}),
      cursor: query.cursor ?? null,
    });
    return {
      keys: page.keys.map((k) => ({
        name: k.name,
        ...(k.expiration !== null ? { expiration: k.expiration } : {}),
        ...(k.metadata !== null ? { metadata: JSON.parse(k.metadata) } : {}),
      })),
      list_complete: page.cursor === null,
      ...(page.cursor !== null ? { cursor: page.cursor } : {}),
    };
  });
};

function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
