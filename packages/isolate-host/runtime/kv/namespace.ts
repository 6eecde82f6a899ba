/**
 * The Workers KV binding (`env.MY_KV`), as Cloudflare documents it: get,
 * getWithMetadata, put, delete, list, and bulk get with an array of keys.
 * Arguments are checked here first, with Cloudflare's errors and messages;
 * the host (src/host/kv.ts) checks them again and does the work: reads from
 * the PoP's local replica, writes through the control plane.
 */
import { hostStart } from "../host.js";
import { Response } from "../response.js";
import { TextDecoder, TextEncoder } from "../text-encoding.js";
import {
  checkKey,
  type KvMethod,
  kvFailure,
  MAX_BULK_GET_KEYS,
  MAX_LIST_LIMIT,
  MAX_METADATA_BYTES,
  MAX_VALUE_BYTES,
  MIN_EXPIRATION_TTL,
  resolveExpiration,
  utf8Length,
} from "./limits.js";

/** A stored value as the host hands it over. */
interface HostValue {
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
}

interface HostList {
  keys: Array<{ name: string; expiration: number | null; metadata: string | null }>;
  cursor: string | null;
}

type ValueType = "text" | "json" | "arrayBuffer" | "stream";
const TYPES = new Set<string>(["text", "json", "arrayBuffer", "stream"]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bindingOf = new WeakMap<object, string>();
const CONSTRUCT = Symbol("KVNamespace");

/** Runs one host operation; the host answers `{ ok: value }` or `{ error: { name, message } }`. */
async function host<T>(binding: string, request: Record<string, unknown>): Promise<T> {
  const reply = (await hostStart("kv", { ...request, binding }).promise) as
    | { ok: T }
    | { error: { name: string; message: string } };
  if ("error" in reply) {
    const ErrorClass = reply.error.name === "TypeError" ? TypeError : Error;
    throw new ErrorClass(reply.error.message);
  }
  return reply.ok;
}

function parseType(method: KvMethod, options: unknown): { type: ValueType; cacheTtl: number | undefined } {
  let type: unknown = "text";
  let cacheTtl: unknown;
  if (typeof options === "string") type = options;
  else if (options !== undefined && options !== null && typeof options === "object") {
    const given = options as { type?: unknown; cacheTtl?: unknown };
    if (given.type !== undefined) type = given.type;
    cacheTtl = given.cacheTtl;
  } else if (options !== undefined && options !== null) {
    throw new TypeError("The options must be a string or an object.");
  }
  if (typeof type !== "string" || !TYPES.has(type)) {
    throw new TypeError(
      'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
    );
  }
  if (cacheTtl !== undefined) {
    const ttl = Number(cacheTtl);
    if (!Number.isFinite(ttl) || ttl < MIN_EXPIRATION_TTL) {
      throw kvFailure(
        method,
        400,
        `Invalid cache_ttl of ${String(cacheTtl)}. Cache TTL must be at least ${MIN_EXPIRATION_TTL}.`,
      );
    }
  }
  return { type: type as ValueType, cacheTtl: cacheTtl === undefined ? undefined : Number(cacheTtl) };
}

function convert(bytes: Uint8Array, type: ValueType): unknown {
  switch (type) {
    case "text":
      return decoder.decode(bytes);
    case "json":
      return JSON.parse(decoder.decode(bytes));
    case "arrayBuffer":
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    case "stream":
      return new Response(bytes).body;
  }
}

function parseMetadata(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** A value to store as bytes: a string, an ArrayBuffer, a view, or a ReadableStream (read whole). */
async function valueBytes(value: unknown): Promise<Uint8Array> {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  const ReadableStreamClass = (globalThis as { ReadableStream?: abstract new () => unknown }).ReadableStream;
  if (ReadableStreamClass !== undefined && value instanceof ReadableStreamClass) {
    return new Uint8Array(
      await new Response(value as ConstructorParameters<typeof Response>[0]).arrayBuffer(),
    );
  }
  throw new TypeError(
    "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
  );
}

export class KVNamespace {
  constructor(token: symbol, binding: string) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
    bindingOf.set(this, binding);
  }

  async get(key: unknown, options?: unknown): Promise<unknown> {
    const binding = bindingOf.get(this);
    if (binding === undefined) throw new TypeError("Illegal invocation");
    if (Array.isArray(key)) {
      const { type } = parseType("GET_BULK", options);
      return bulkGet(binding, key, type, false);
    }
    const name = checkKey("GET", key);
    const { type } = parseType("GET", options);
    const found = await host<HostValue | null>(binding, { op: "get", key: name });
    return found === null ? null : convert(found.value, type);
  }

  async getWithMetadata(key: unknown, options?: unknown): Promise<unknown> {
    const binding = bindingOf.get(this);
    if (binding === undefined) throw new TypeError("Illegal invocation");
    if (Array.isArray(key)) {
      const { type } = parseType("GET_BULK", options);
      return bulkGet(binding, key, type, true);
    }
    const name = checkKey("GET", key);
    const { type } = parseType("GET", options);
    const found = await host<HostValue | null>(binding, { op: "get", key: name });
    if (found === null) return { value: null, metadata: null, cacheStatus: null };
    return { value: convert(found.value, type), metadata: parseMetadata(found.metadata), cacheStatus: null };
  }

  async put(key: unknown, value: unknown, options?: unknown): Promise<void> {
    const binding = bindingOf.get(this);
    if (binding === undefined) throw new TypeError("Illegal invocation");
    const name = checkKey("PUT", key);
    const opts = (options ?? {}) as { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown };
    if (typeof opts !== "object") throw new TypeError("The options must be an object.");
    const expiration = resolveExpiration(opts.expiration, opts.expirationTtl, Date.now());
    let metadata: string | null = null;
    if (opts.metadata !== undefined && opts.metadata !== null) {
      const json = JSON.stringify(opts.metadata);
      if (json === undefined) throw new TypeError("KV metadata must be serializable to JSON.");
      const bytes = utf8Length(json);
      if (bytes > MAX_METADATA_BYTES) {
        throw kvFailure("PUT", 413, `Metadata length of ${bytes} exceeds limit of ${MAX_METADATA_BYTES}.`);
      }
      metadata = json;
    }
    const bytes = await valueBytes(value);
    if (bytes.byteLength > MAX_VALUE_BYTES) {
      throw kvFailure("PUT", 413, `Value length of ${bytes.byteLength} exceeds limit of ${MAX_VALUE_BYTES}.`);
    }
    await host<null>(binding, { op: "put", key: name, value: bytes, metadata, expiration });
  }

  async delete(key: unknown): Promise<void> {
    const binding = bindingOf.get(this);
    if (binding === undefined) throw new TypeError("Illegal invocation");
    const name = checkKey("DELETE", key);
    await host<null>(binding, { op: "delete", key: name });
  }

  async list(options?: unknown): Promise<unknown> {
    const binding = bindingOf.get(this);
    if (binding === undefined) throw new TypeError("Illegal invocation");
    const opts = (options ?? {}) as { prefix?: unknown; limit?: unknown; cursor?: unknown };
    if (typeof opts !== "object") throw new TypeError("The options must be an object.");
    let limit = MAX_LIST_LIMIT;
    if (opts.limit !== undefined && opts.limit !== null) {
      limit = Math.trunc(Number(opts.limit));
      if (!Number.isFinite(limit) || limit < 1) {
        throw kvFailure(
          "LIST",
          400,
          `Invalid key_count_limit of ${String(opts.limit)}. Please specify an integer greater than 0.`,
        );
      }
      if (limit > MAX_LIST_LIMIT) {
        throw kvFailure(
          "LIST",
          400,
          `Invalid key_count_limit of ${String(opts.limit)}. Please specify an integer less than ${MAX_LIST_LIMIT + 1}.`,
        );
      }
    }
    const prefix = opts.prefix === undefined || opts.prefix === null ? "" : String(opts.prefix);
    const cursor =
      opts.cursor === undefined || opts.cursor === null || opts.cursor === "" ? null : String(opts.cursor);
    const page = await host<HostList>(binding, { op: "list", prefix, limit, cursor });
    const keys = page.keys.map((k) => {
      const entry: { name: string; expiration?: number; metadata?: unknown } = { name: k.name };
      if (k.expiration !== null) entry.expiration = k.expiration;
      if (k.metadata !== null) entry.metadata = parseMetadata(k.metadata);
      return entry;
    });
    return page.cursor === null
      ? { keys, list_complete: true, cacheStatus: null }
      : { keys, list_complete: false, cursor: page.cursor, cacheStatus: null };
  }
}

async function bulkGet(binding: string, given: unknown[], type: ValueType, withMetadata: boolean) {
  if (type === "arrayBuffer" || type === "stream") {
    throw new TypeError(`"${type}" is not a valid type. Use "json" or "text"`);
  }
  if (given.length > MAX_BULK_GET_KEYS) {
    throw kvFailure("GET_BULK", 400, `You can request a maximum of ${MAX_BULK_GET_KEYS} keys`);
  }
  const keys = given.map((key) => checkKey("GET_BULK", key));
  const found = await host<Array<HostValue | null>>(binding, { op: "getBulk", keys });
  const out = new Map<string, unknown>();
  keys.forEach((key, i) => {
    const entry = found[i] ?? null;
    const value = entry === null ? null : convert(entry.value, type);
    out.set(
      key,
      withMetadata ? { value, metadata: entry === null ? null : parseMetadata(entry.metadata) } : value,
    );
  });
  return out;
}

/** The `env` a script sees: its vars and secrets, plus one KVNamespace per KV binding. */
export function withKvBindings(
  env: Record<string, unknown>,
  bindings: readonly string[],
): Record<string, unknown> {
  for (const name of bindings) env[name] = new KVNamespace(CONSTRUCT, name);
  return env;
}
