import type { HostOpContext } from "./op.js";

/**
 * Host side of `runtime/kv/`: the Workers KV binding's operations. The
 * isolate names a binding and an operation; both are checked (the binding
 * must be one of the script's, every argument within Cloudflare's limits)
 * before the `KvProvider` the embedder gave the runner does the work. The
 * isolate host knows nothing of where values live: the edge node's provider
 * reads its local replica and sends writes to the control plane.
 */

/** A stored value. `metadata` is JSON text or null; `expiration` epoch seconds or null. */
export interface KvValue {
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
}

export interface KvListPage {
  keys: Array<{ name: string; expiration: number | null; metadata: string | null }>;
  /** Null when the listing is complete. */
  cursor: string | null;
}

export type KvWriteMutation =
  | { key: string; delete: true }
  | { key: string; delete?: false; value: Uint8Array; metadata: string | null; expiration: number | null };

/** The script version a KV operation is made for (the provider counts operations by it). */
export interface KvCaller {
  script: string;
  version: number;
}

/** Where KV data lives, provided by the embedder (the edge node). Reads should be local and fast. */
export interface KvProvider {
  get(namespaceId: string, key: string, caller: KvCaller): KvValue | null | Promise<KvValue | null>;
  list(
    namespaceId: string,
    options: { prefix: string; limit: number; cursor: string | null },
    caller: KvCaller,
  ): KvListPage | Promise<KvListPage>;
  /** Resolves once the write is durable (and readable at this PoP); rejects with a message for the script. */
  write(namespaceId: string, mutations: KvWriteMutation[], caller: KvCaller): Promise<void>;
}

/** A request's view of KV: the provider and the script's bindings (env name -> namespace id). */
export interface KvAccess {
  provider: KvProvider;
  bindings: Readonly<Record<string, string>>;
  caller: KvCaller;
}

export type KvReply = { ok: unknown } | { error: { name: string; message: string } };

/** KV operations one request may make (Cloudflare's limit per invocation). */
export const MAX_KV_OPERATIONS = 1000;

const MAX_KEY_BYTES = 512;
const MAX_VALUE_BYTES = 25 * 1024 * 1024;
const MAX_METADATA_BYTES = 1024;
const MAX_LIST_LIMIT = 1000;
const MAX_BULK_KEYS = 100;
const MAX_CURSOR_CHARS = 4096;
/** Host cost estimates charged to the script: a small fixed part plus copying. */
const OP_BASE_MS = 0.01;
const MS_PER_BYTE = 1 / (1024 * 1024);

class KvArgumentError extends TypeError {}

function key(value: unknown): string {
  if (typeof value !== "string" || value === "" || Buffer.byteLength(value, "utf8") > MAX_KEY_BYTES) {
    throw new KvArgumentError("Invalid KV key");
  }
  return value;
}

function metadata(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || Buffer.byteLength(value, "utf8") > MAX_METADATA_BYTES) {
    throw new KvArgumentError("Invalid KV metadata");
  }
  JSON.parse(value);
  return value;
}

function expiration(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new KvArgumentError("Invalid KV expiration");
  }
  return value;
}

/** Runs one KV operation for the isolate; never rejects (failures are replies). */
export async function runKvOp(ctx: HostOpContext, access: KvAccess | null, raw: unknown): Promise<KvReply> {
  try {
    if (access === null || typeof raw !== "object" || raw === null)
      throw new KvArgumentError("KV is not available");
    const request = raw as Record<string, unknown>;
    const binding = request.binding;
    const namespaceId =
      typeof binding === "string" && Object.hasOwn(access.bindings, binding)
        ? access.bindings[binding]
        : undefined;
    if (namespaceId === undefined) throw new KvArgumentError("Unknown KV binding");
    const { provider, caller } = access;
    switch (request.op) {
      case "get": {
        const found = await provider.get(namespaceId, key(request.key), caller);
        ctx.charge(OP_BASE_MS + (found?.value.byteLength ?? 0) * MS_PER_BYTE);
        return { ok: found };
      }
      case "getBulk": {
        const keys = request.keys;
        if (!Array.isArray(keys) || keys.length > MAX_BULK_KEYS) throw new KvArgumentError("Invalid KV keys");
        const found = await Promise.all(keys.map((k) => provider.get(namespaceId, key(k), caller)));
        ctx.charge(
          OP_BASE_MS * keys.length + found.reduce((n, f) => n + (f?.value.byteLength ?? 0), 0) * MS_PER_BYTE,
        );
        return { ok: found };
      }
      case "list": {
        const { prefix, limit, cursor } = request;
        if (typeof prefix !== "string" || Buffer.byteLength(prefix, "utf8") > MAX_KEY_BYTES)
          throw new KvArgumentError("Invalid KV prefix");
        if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
          throw new KvArgumentError("Invalid KV limit");
        if (cursor !== null && (typeof cursor !== "string" || cursor.length > MAX_CURSOR_CHARS))
          throw new KvArgumentError("Invalid KV cursor");
        const page = await provider.list(namespaceId, { prefix, limit, cursor }, caller);
        ctx.charge(OP_BASE_MS + page.keys.length * 0.001);
        return { ok: page };
      }
      case "put": {
        const value = request.value;
        if (!(value instanceof Uint8Array) || value.byteLength > MAX_VALUE_BYTES)
          throw new KvArgumentError("Invalid KV value");
        const mutation = {
          key: key(request.key),
          value,
          metadata: metadata(request.metadata),
          expiration: expiration(request.expiration),
        };
        ctx.charge(OP_BASE_MS + value.byteLength * MS_PER_BYTE);
        await provider.write(namespaceId, [mutation], caller);
        return { ok: null };
      }
      case "delete": {
        ctx.charge(OP_BASE_MS);
        await provider.write(namespaceId, [{ key: key(request.key), delete: true }], caller);
        return { ok: null };
      }
      default:
        throw new KvArgumentError("Unknown KV operation");
    }
  } catch (err) {
    const name = err instanceof TypeError ? "TypeError" : "Error";
    const message = err instanceof Error ? err.message : "KV operation failed";
    return { error: { name, message } };
  }
}
