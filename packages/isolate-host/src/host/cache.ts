import {
  byteRange,
  type HeaderList,
  notModified,
  notModifiedHeaders,
  putRefusal,
  storable,
} from "../cache/policy.js";
import type { HostOpContext } from "./op.js";

/**
 * Host side of `runtime/cache/`: the Workers Cache API (`caches.default`,
 * `caches.open(name)`). The isolate names a cache and a URL; the host builds
 * the key from the script's name (never from the isolate), so scripts never
 * see each other's entries, applies the HTTP rules (../cache/policy.ts) and
 * leaves storage to the embedder's `CacheProvider` (the edge node's on-disk
 * store: per node, so never shared between PoPs).
 */

/** A stored response. `expiresAt` is epoch milliseconds. */
export interface CacheEntry {
  status: number;
  headers: HeaderList;
  body: Uint8Array;
  expiresAt: number;
}

export interface CacheCaller {
  script: string;
}

/** Where cached responses live, provided by the embedder. Expired entries must not be returned. */
export interface CacheProvider {
  get(key: string, caller: CacheCaller): CacheEntry | null | Promise<CacheEntry | null>;
  /** Stores (or replaces) an entry; rejects with a message for the script (e.g. too large). */
  put(key: string, entry: CacheEntry, caller: CacheCaller): void | Promise<void>;
  /** True when an entry was there. */
  delete(key: string, caller: CacheCaller): boolean | Promise<boolean>;
}

export interface CacheAccess {
  provider: CacheProvider;
  caller: CacheCaller;
}

export type CacheReply = { ok: unknown } | { error: { name: string; message: string } };

/** Cache operations one request may make. */
export const MAX_CACHE_OPERATIONS = 1000;
const MAX_URL_CHARS = 16 * 1024;
const MAX_CACHE_NAME_CHARS = 1024;
const MAX_HEADERS = 256;
const MAX_HEADER_CHARS = 64 * 1024;
const OP_BASE_MS = 0.01;
const MS_PER_BYTE = 1 / (1024 * 1024);

class CacheArgumentError extends TypeError {}

/** The entry's key: script, cache name and URL without its fragment. */
export function cacheKey(caller: CacheCaller, cacheName: string, url: string): string {
  return JSON.stringify([caller.script, cacheName, url]);
}

function cacheUrl(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_URL_CHARS) throw new CacheArgumentError("Invalid URL");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CacheArgumentError("Invalid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CacheArgumentError("Invalid URL");
  url.hash = "";
  return url.href;
}

function cacheName(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_CACHE_NAME_CHARS)
    throw new CacheArgumentError("Invalid cache name");
  return value;
}

function headerList(value: unknown): HeaderList {
  if (!Array.isArray(value) || value.length > MAX_HEADERS) throw new CacheArgumentError("Invalid headers");
  let chars = 0;
  return value.map((pair: unknown) => {
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string")
      throw new CacheArgumentError("Invalid headers");
    chars += pair[0].length + pair[1].length;
    if (chars > MAX_HEADER_CHARS) throw new CacheArgumentError("Invalid headers");
    return [pair[0], pair[1]];
  });
}

/** A response for the isolate: status, headers, body (null for 304). */
export interface CacheMatch {
  status: number;
  headers: HeaderList;
  body: Uint8Array | null;
}

function answer(entry: CacheEntry, request: HeaderList): CacheMatch {
  const headers: HeaderList = [
    ...entry.headers.filter(([n]) => n.toLowerCase() !== "cf-cache-status"),
    ["cf-cache-status", "HIT"],
  ];
  if (entry.status === 200 && notModified(request, entry.headers))
    return { status: 304, headers: notModifiedHeaders(headers), body: null };
  const range = entry.status === 200 ? byteRange(request, entry.body.byteLength) : null;
  const size = entry.body.byteLength;
  const withoutLength = headers.filter(([n]) => n.toLowerCase() !== "content-length");
  if (range === "unsatisfiable")
    return { status: 416, headers: [...withoutLength, ["content-range", `bytes */${size}`]], body: null };
  if (range !== null) {
    return {
      status: 206,
      headers: [...withoutLength, ["content-range", `bytes ${range.start}-${range.end}/${size}`]],
      body: entry.body.subarray(range.start, range.end + 1),
    };
  }
  return { status: entry.status, headers, body: entry.body };
}

/** Runs one Cache API operation for the isolate; never rejects (failures are replies). */
export async function runCacheOp(
  ctx: HostOpContext,
  access: CacheAccess | null,
  raw: unknown,
  now: () => number = Date.now,
): Promise<CacheReply> {
  try {
    if (access === null) throw new Error("The Cache API is not available on this node");
    if (typeof raw !== "object" || raw === null) throw new CacheArgumentError("Invalid cache operation");
    const request = raw as Record<string, unknown>;
    const { provider, caller } = access;
    const key = cacheKey(caller, cacheName(request.cache), cacheUrl(request.url));
    switch (request.op) {
      case "match": {
        const headers = headerList(request.headers);
        const found = await provider.get(key, caller);
        ctx.charge(OP_BASE_MS + (found?.body.byteLength ?? 0) * MS_PER_BYTE);
        return { ok: found === null ? null : answer(found, headers) };
      }
      case "put": {
        const status = request.status;
        const body = request.body;
        if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599)
          throw new CacheArgumentError("Invalid response status");
        if (!(body instanceof Uint8Array)) throw new CacheArgumentError("Invalid response body");
        const headers = headerList(request.headers);
        const refusal = putRefusal(status, headers);
        if (refusal !== null) throw new TypeError(refusal);
        ctx.charge(OP_BASE_MS + body.byteLength * MS_PER_BYTE);
        const at = now();
        const stored = storable(status, headers, at);
        // Like Cloudflare's cache: a response that may not be stored is dropped, and put() succeeds.
        if (stored === null) return { ok: false };
        await provider.put(
          key,
          { status, headers: stored.headers, body, expiresAt: at + stored.ttl * 1000 },
          caller,
        );
        return { ok: true };
      }
      case "delete": {
        ctx.charge(OP_BASE_MS);
        return { ok: await provider.delete(key, caller) };
      }
      default:
        throw new CacheArgumentError("Unknown cache operation");
    }
  } catch (err) {
    const name = err instanceof TypeError ? "TypeError" : "Error";
    const message = err instanceof Error ? err.message : "Cache operation failed";
    return { error: { name, message } };
  }
}
