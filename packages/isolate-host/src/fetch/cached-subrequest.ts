import { storable } from "../cache/policy.js";
import { type CacheAccess, cacheKey } from "../host/cache.js";
import type { HostBytes } from "../host-memory.js";
import { type SubrequestBudget, SubrequestError, type SubrequestResult } from "./subrequest.js";

/**
 * `fetch(url, { cf: { cacheTtl, cacheEverything, cacheKey } })`: a GET
 * subrequest served from, and stored in, the same per-node store as the
 * Cache API (its own namespace: the script's "fetch" cache). Caching is on
 * when `cacheTtl` > 0 (every 2xx kept that long, whatever the origin's
 * headers) or `cacheEverything` (the origin's Cache-Control/Expires, else
 * Cloudflare's default Edge TTL). `cacheKey` replaces the URL as the key.
 * A hit counts as a subrequest and its body against the request's host memory.
 */

export interface CfCacheOptions {
  cacheTtl: number | null;
  cacheEverything: boolean;
  cacheKey: string | null;
}

const MAX_KEY_CHARS = 16 * 1024;
const MAX_TTL_SECONDS = 365 * 24 * 3600;

/** The caching part of a fetch request from the isolate, or null when it asks for none. */
export function cfCacheOptions(raw: unknown): CfCacheOptions | null {
  if (typeof raw !== "object" || raw === null) return null;
  const request = raw as { method?: unknown; cf?: unknown };
  const cf = request.cf;
  if (request.method !== "GET" || typeof cf !== "object" || cf === null) return null;
  const { cacheTtl, cacheEverything, cacheKey } = cf as Record<string, unknown>;
  const ttl =
    typeof cacheTtl === "number" && Number.isFinite(cacheTtl) && cacheTtl > 0
      ? Math.min(Math.floor(cacheTtl), MAX_TTL_SECONDS)
      : null;
  const everything = cacheEverything === true;
  if (ttl === null && !everything) return null;
  const key =
    typeof cacheKey === "string" && cacheKey !== "" && cacheKey.length <= MAX_KEY_CHARS ? cacheKey : null;
  return { cacheTtl: ttl, cacheEverything: everything, cacheKey: key };
}

function withStatus(headers: Array<[string, string]>, status: string): Array<[string, string]> {
  return [...headers.filter(([n]) => n.toLowerCase() !== "cf-cache-status"), ["cf-cache-status", status]];
}

export async function cachedSubrequest(
  raw: { url?: unknown },
  options: CfCacheOptions,
  access: CacheAccess,
  budget: SubrequestBudget,
  maxSubrequests: number,
  memory: HostBytes,
  perform: () => Promise<SubrequestResult>,
): Promise<SubrequestResult> {
  const url = typeof raw.url === "string" ? (raw.url.split("#")[0] ?? "") : "";
  if (url.length > MAX_KEY_CHARS) return perform();
  const key = cacheKey(access.caller, "fetch", options.cacheKey ?? url);
  const found = await access.provider.get(key, access.caller);
  if (found !== null) {
    if (++budget.used > maxSubrequests) {
      throw new SubrequestError(`Too many subrequests: a request may make at most ${maxSubrequests}`, {
        name: "Error",
        limit: "EDGE_SUBREQUEST_LIMIT",
      });
    }
    if (memory.take(found.body.byteLength) !== null)
      throw new SubrequestError("The node has no memory for this subrequest's response right now");
    return {
      status: found.status,
      statusText: "",
      headers: withStatus(found.headers, "HIT"),
      body: found.body,
      url,
      redirected: false,
    };
  }
  const result = await perform();
  const now = Date.now();
  const ttl =
    options.cacheTtl !== null
      ? result.status >= 200 && result.status < 300
        ? options.cacheTtl
        : null
      : (storable(result.status, result.headers, now)?.ttl ?? null);
  if (ttl !== null && result.status !== 206) {
    try {
      await access.provider.put(
        key,
        { status: result.status, headers: result.headers, body: result.body, expiresAt: now + ttl * 1000 },
        access.caller,
      );
    } catch {
      // Too large for the store: served, not cached.
    }
  }
  return { ...result, headers: withStatus(result.headers, "MISS") };
}
