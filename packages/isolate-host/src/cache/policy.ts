/**
 * HTTP caching rules of the Workers Cache API, as Cloudflare documents them:
 * what `cache.put()` refuses (TypeError), what it silently does not store,
 * how long an entry stays fresh, and how `cache.match()` answers conditional
 * and Range requests from a stored entry. Pure functions, no I/O.
 */

export type HeaderList = Array<[string, string]>;

export function header(headers: HeaderList, name: string): string | null {
  const wanted = name.toLowerCase();
  const values = headers.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
  return values.length === 0 ? null : values.join(", ");
}

/** Cache-Control directives, lower-cased names -> value ("" for bare directives). */
export function cacheControl(headers: HeaderList): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header(headers, "cache-control") ?? "").split(",")) {
    const [rawName, ...rest] = part.split("=");
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    const value = rest
      .join("=")
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (!directives.has(name)) directives.set(name, value);
  }
  return directives;
}

function seconds(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Math.min(Number(value), 2 ** 31);
}

/** Why `put()` throws, with the TypeError messages Cloudflare's runtime uses; null when it may go on. */
export function putRefusal(status: number, headers: HeaderList): string | null {
  if (status === 206) return "Cannot cache response to a range request (206 Partial Content).";
  const vary = header(headers, "vary");
  if (vary?.split(",").some((v) => v.trim() === "*")) return "Cannot cache response with 'Vary: *' header.";
  if (status === 304) return "Cannot cache response with status 304 (Not Modified).";
  return null;
}

/**
 * Cloudflare's default Edge TTL (seconds) by status, for responses with neither
 * Cache-Control freshness nor Expires; other statuses are not cached.
 */
const DEFAULT_EDGE_TTL: Readonly<Record<number, number>> = {
  200: 7200,
  206: 7200,
  301: 7200,
  302: 1200,
  303: 1200,
  404: 180,
  410: 180,
};

/**
 * What `put()` stores: the freshness lifetime in seconds and the headers kept,
 * or null when it stores nothing (`no-store`, `no-cache`, bare `private`, a
 * `Set-Cookie` not named by `private=`, or no lifetime left). The lifetime is
 * `s-maxage`, then `max-age`, then `Expires` (against `Date`, or now), then
 * Cloudflare's default Edge TTL for the status. `private=Set-Cookie` stores
 * the response without those headers, as Cloudflare documents.
 */
export function storable(
  status: number,
  headers: HeaderList,
  nowMs: number,
): { ttl: number; headers: HeaderList } | null {
  const cc = cacheControl(headers);
  if (cc.has("no-store") || cc.has("no-cache") || cc.get("private") === "") return null;
  const stripped = new Set(
    (cc.get("private") ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ""),
  );
  const kept = headers.filter(([name]) => !stripped.has(name.toLowerCase()));
  if (header(kept, "set-cookie") !== null) return null;
  const ttl =
    seconds(cc.get("s-maxage")) ??
    seconds(cc.get("max-age")) ??
    expiresIn(headers, nowMs) ??
    DEFAULT_EDGE_TTL[status] ??
    0;
  return ttl > 0 ? { ttl, headers: kept } : null;
}

/** The freshness lifetime `storable` gives a 200 response, or null when it is not stored. */
export function freshSeconds(headers: HeaderList, nowMs: number): number | null {
  return storable(200, headers, nowMs)?.ttl ?? null;
}

function expiresIn(headers: HeaderList, nowMs: number): number | null {
  const expires = header(headers, "expires");
  if (expires === null) return null;
  const at = Date.parse(expires);
  if (Number.isNaN(at)) return 0; // An invalid Expires means "already expired".
  const date = Date.parse(header(headers, "date") ?? "");
  return Math.floor((at - (Number.isNaN(date) ? nowMs : date)) / 1000);
}

function opaqueTag(tag: string): string {
  return tag.trim().replace(/^W\//, "");
}

/** True when the request's validators say the client's copy is current (answer 304). */
export function notModified(request: HeaderList, stored: HeaderList): boolean {
  const ifNoneMatch = header(request, "if-none-match");
  if (ifNoneMatch !== null) {
    const etag = header(stored, "etag");
    if (etag === null) return false;
    // Weak comparison (RFC 9110 13.1.2).
    return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaqueTag(t) === opaqueTag(etag));
  }
  const since = Date.parse(header(request, "if-modified-since") ?? "");
  const modified = Date.parse(header(stored, "last-modified") ?? "");
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

/** Headers a 304 keeps from the stored response (RFC 9110 15.4.5). */
const NOT_MODIFIED_HEADERS = new Set([
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
  "cf-cache-status",
]);

export function notModifiedHeaders(stored: HeaderList): HeaderList {
  return stored.filter(([n]) => NOT_MODIFIED_HEADERS.has(n.toLowerCase()));
}

/**
 * A single `bytes=` range against a body of `size` bytes: the inclusive
 * bounds, "unsatisfiable" (416), or null to answer with the whole body
 * (no Range, a multi-range or a malformed one, as a cache may).
 */
export function byteRange(
  request: HeaderList,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  const range = header(request, "range");
  const match = range === null ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (match === null) return null;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return null;
  return { start, end };
}
