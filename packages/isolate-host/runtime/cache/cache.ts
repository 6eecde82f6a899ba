/**
 * The Workers Cache API (`caches.default`, `await caches.open(name)`), as
 * Cloudflare documents it: `match`, `put` and `delete` keyed by a request's
 * URL, GET only. Arguments are checked here, with Cloudflare's errors; the
 * host (src/host/cache.ts) checks them again, applies the HTTP caching rules
 * and keys entries by the script's name in the node's store.
 */
import { hostStart } from "../host.js";
import { Request } from "../request.js";
import { Response } from "../response.js";

interface HostMatch {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
}

const CONSTRUCT = Symbol("Cache");
const nameOf = new WeakMap<object, string>();
/** The default cache's name in the host's keys; opened caches are prefixed so no name collides with it. */
const DEFAULT_NAME = "";

async function host<T>(cache: string, request: Record<string, unknown>): Promise<T> {
  const reply = (await hostStart("cache", { ...request, cache }).promise) as
    | { ok: T }
    | { error: { name: string; message: string } };
  if ("error" in reply) {
    const ErrorClass = reply.error.name === "TypeError" ? TypeError : Error;
    throw new ErrorClass(reply.error.message);
  }
  return reply.ok;
}

function requestOf(input: unknown): Request {
  return input instanceof Request ? input : new Request(input as string);
}

function ignoresMethod(options: unknown): boolean {
  return (
    typeof options === "object" &&
    options !== null &&
    Boolean((options as { ignoreMethod?: unknown }).ignoreMethod)
  );
}

function nameOfCache(cache: unknown): string {
  const name = typeof cache === "object" && cache !== null ? nameOf.get(cache) : undefined;
  if (name === undefined) throw new TypeError("Illegal invocation");
  return name;
}

export class Cache {
  constructor(token?: unknown, name?: unknown) {
    if (token !== CONSTRUCT || typeof name !== "string") throw new TypeError("Illegal constructor");
    nameOf.set(this, name);
  }

  /** The stored response for the request's URL (`cf-cache-status: HIT`), or undefined. */
  async match(request: unknown, options?: unknown): Promise<Response | undefined> {
    const cache = nameOfCache(this);
    const req = requestOf(request);
    if (req.method !== "GET" && !ignoresMethod(options)) return undefined;
    const found = await host<HostMatch | null>(cache, {
      op: "match",
      url: req.url,
      headers: [...req.headers],
    });
    if (found === null) return undefined;
    return new Response(found.body, { status: found.status, headers: found.headers });
  }

  /** Stores the response for the request's URL, reading (consuming) its body. */
  async put(request: unknown, response: unknown): Promise<undefined> {
    const cache = nameOfCache(this);
    const req = requestOf(request);
    if (req.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (!(response instanceof Response)) throw new TypeError("Argument 2 must be a Response.");
    if (response.bodyUsed) throw new TypeError("Response body is already used");
    const status = response.status;
    const headers = [...response.headers];
    const body = new Uint8Array(await response.arrayBuffer());
    await host<boolean>(cache, { op: "put", url: req.url, status, headers, body });
    return undefined;
  }

  /** Removes the request's URL from the cache; true when it was there. */
  async delete(request: unknown, options?: unknown): Promise<boolean> {
    const cache = nameOfCache(this);
    const req = requestOf(request);
    if (req.method !== "GET" && !ignoresMethod(options)) return false;
    return host<boolean>(cache, { op: "delete", url: req.url });
  }
}

let defaultCache: Cache | null = null;
const STORAGE = Symbol("CacheStorage");

export class CacheStorage {
  constructor(token?: unknown) {
    if (token !== STORAGE) throw new TypeError("Illegal constructor");
  }

  /** The zone's default cache (Cloudflare: what `fetch()` uses too). */
  get default(): Cache {
    defaultCache ??= new Cache(CONSTRUCT, DEFAULT_NAME);
    return defaultCache;
  }

  /** A named cache, separate from the default one and from other names. */
  async open(cacheName: unknown): Promise<Cache> {
    return new Cache(CONSTRUCT, `named:${String(cacheName)}`);
  }
}

export const caches = new CacheStorage(STORAGE);
