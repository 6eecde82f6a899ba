import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIsolateRunner, type IsolateRunner } from "@edge/isolate-host";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CacheStore, type CacheStoreOptions } from "../src/http-cache/cache-store.js";

/**
 * The Cache API as scripts see it: real isolates over the node's real
 * on-disk store, in front of a real origin on loopback that counts the
 * requests reaching it.
 */

const LIMITS = { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 };
let origin: Server;
let originUrl = "";
const originHits = new Map<string, number>();
const dirs: string[] = [];
const open: Array<{ close(): void } | { dispose(): Promise<void> }> = [];

beforeAll(async () => {
  origin = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://origin");
    originHits.set(url.pathname, (originHits.get(url.pathname) ?? 0) + 1);
    const headers: Record<string, string> = { "content-type": "text/plain" };
    for (const [name, value] of url.searchParams) headers[name] = value;
    res.writeHead(200, headers);
    res.end(`body of ${url.pathname} #${originHits.get(url.pathname)}`);
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => origin.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const thing of open.splice(0)) {
    if ("dispose" in thing) await thing.dispose();
    else thing.close();
  }
});

function storeIn(dir?: string, options: Partial<CacheStoreOptions> = {}): { store: CacheStore; dir: string } {
  const where = dir ?? mkdtempSync(join(tmpdir(), "edge-cache-"));
  if (dir === undefined) dirs.push(where);
  const store = new CacheStore(where, { maxBytes: 1024 * 1024, maxEntryBytes: 64 * 1024, ...options });
  open.push(store);
  return { store, dir: where };
}

function runnerOver(store: CacheStore, threads = 0): IsolateRunner {
  const runner = createIsolateRunner({ cache: store, threads, maxLimits: LIMITS });
  open.unshift(runner);
  return runner;
}

/** A cache-first proxy to the origin: match, else fetch and put. `?h=` query pairs become origin headers. */
const CACHE_FIRST = `export default { async fetch(request) {
  const cache = caches.default;
  const hit = await cache.match(request);
  if (hit) return hit;
  const url = new URL(request.url);
  const response = await fetch(ORIGIN + url.pathname + url.search);
  await cache.put(request, response.clone());
  return response;
} };`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

let version = 0;
async function request(
  runner: IsolateRunner,
  source: string,
  url: string,
  options: { script?: string; headers?: Array<[string, string]> } = {},
): Promise<Answer> {
  const prepared = await runner.prepare({
    name: options.script ?? "site",
    version: ++version,
    source: `const ORIGIN = ${JSON.stringify(originUrl)};\n${source}`,
    vars: {},
    limits: LIMITS,
  });
  const result = await runner.run(prepared, {
    method: "GET",
    url,
    headers: options.headers ?? [],
    body: null,
  });
  return {
    status: result.response.status,
    headers: Object.fromEntries(result.response.headers),
    text: new TextDecoder().decode(result.response.body),
  };
}

/** Runs `body` (inside an async fetch handler) and returns its JSON result. */
async function evaluate(runner: IsolateRunner, body: string, script = "site"): Promise<unknown> {
  const answer = await request(
    runner,
    `export default { async fetch(request) {
      const errorOf = async (f) => { try { await f(); return "no error"; } catch (e) { return e.constructor.name + ": " + e.message; } };
      const result = await (async () => { ${body} })();
      return Response.json(result === undefined ? null : result);
    } };`,
    "https://site.test/",
    { script },
  );
  return JSON.parse(answer.text);
}

const q = (headers: Record<string, string>) => `?${new URLSearchParams(headers)}`;

describe("Cache API: hits and misses", () => {
  it("serves a cached response with cf-cache-status HIT without reaching the origin again", async () => {
    const runner = runnerOver(storeIn().store);
    const url = `https://site.test/hit${q({ "cache-control": "max-age=60" })}`;
    const first = await request(runner, CACHE_FIRST, url);
    const second = await request(runner, CACHE_FIRST, url);
    expect(first.text).toBe("body of /hit #1");
    expect(first.headers["cf-cache-status"]).toBeUndefined();
    expect(second).toMatchObject({ status: 200, text: "body of /hit #1" });
    expect(second.headers["cf-cache-status"]).toBe("HIT");
    expect(second.headers["content-type"]).toBe("text/plain");
    expect(originHits.get("/hit")).toBe(1);
  });

  it("works the same from isolates on worker threads", async () => {
    const runner = runnerOver(storeIn().store, 1);
    const url = `https://site.test/threaded${q({ "cache-control": "s-maxage=60" })}`;
    await request(runner, CACHE_FIRST, url);
    const second = await request(runner, CACHE_FIRST, url);
    expect(second.headers["cf-cache-status"]).toBe("HIT");
    expect(originHits.get("/threaded")).toBe(1);
  });

  it("does not store responses with no-store, no-cache, private, Set-Cookie or max-age=0", async () => {
    const runner = runnerOver(storeIn().store);
    for (const [path, headers] of [
      ["/no-store", { "cache-control": "no-store, max-age=60" }],
      ["/private", { "cache-control": "private, max-age=60" }],
      ["/cookie", { "cache-control": "max-age=60", "set-cookie": "a=1" }],
      ["/no-cache", { "cache-control": "no-cache" }],
      ["/max-age-zero", { "cache-control": "max-age=0" }],
    ] as const) {
      await request(runner, CACHE_FIRST, `https://site.test${path}${q(headers)}`);
      const again = await request(runner, CACHE_FIRST, `https://site.test${path}${q(headers)}`);
      expect(again.headers["cf-cache-status"], path).toBeUndefined();
      expect(originHits.get(path), path).toBe(2);
    }
  });

  it("stores a response fresh by Expires until that time", async () => {
    let now = Date.now();
    const runner = runnerOver(storeIn(undefined, { now: () => now }).store);
    const expires = new Date(Date.now() + 120_000).toUTCString();
    const url = `https://site.test/expires${q({ expires })}`;
    await request(runner, CACHE_FIRST, url);
    expect((await request(runner, CACHE_FIRST, url)).headers["cf-cache-status"]).toBe("HIT");
    now += 121_000;
    expect((await request(runner, CACHE_FIRST, url)).headers["cf-cache-status"]).toBeUndefined();
    expect(originHits.get("/expires")).toBe(2);
  });

  it("keeps a 200 without Cache-Control or Expires for Cloudflare's default Edge TTL (2 hours)", async () => {
    let now = Date.now();
    const runner = runnerOver(storeIn(undefined, { now: () => now }).store);
    const url = "https://site.test/default-ttl";
    await request(runner, CACHE_FIRST, url);
    now += 7_100_000;
    expect((await request(runner, CACHE_FIRST, url)).headers["cf-cache-status"]).toBe("HIT");
    now += 200_000;
    expect((await request(runner, CACHE_FIRST, url)).headers["cf-cache-status"]).toBeUndefined();
    expect(originHits.get("/default-ttl")).toBe(2);
  });

  it("stops serving an entry once its max-age has passed", async () => {
    let now = Date.now();
    const runner = runnerOver(storeIn(undefined, { now: () => now }).store);
    const url = `https://site.test/expiry${q({ "cache-control": "max-age=30" })}`;
    await request(runner, CACHE_FIRST, url);
    now += 29_000;
    expect((await request(runner, CACHE_FIRST, url)).text).toBe("body of /expiry #1");
    now += 2_000;
    const after = await request(runner, CACHE_FIRST, url);
    expect(after.text).toBe("body of /expiry #2");
    expect(after.headers["cf-cache-status"]).toBeUndefined();
  });

  it("ignores Vary other than '*', as Cloudflare does: one entry serves every header value", async () => {
    const runner = runnerOver(storeIn().store);
    const url = `https://site.test/vary${q({ "cache-control": "max-age=60", vary: "User-Agent, Accept-Encoding" })}`;
    await request(runner, CACHE_FIRST, url, { headers: [["user-agent", "a"]] });
    const other = await request(runner, CACHE_FIRST, url, {
      headers: [
        ["user-agent", "b"],
        ["accept-encoding", "br"],
      ],
    });
    expect(other.headers["cf-cache-status"]).toBe("HIT");
    expect(originHits.get("/vary")).toBe(1);
  });
});

describe("Cache API: put, match and delete", () => {
  it("refuses 206 responses, Vary: * and non-GET requests with Cloudflare's TypeErrors", async () => {
    const runner = runnerOver(storeIn().store);
    const result = await evaluate(
      runner,
      `const cache = caches.default;
      const fresh = { "cache-control": "max-age=60" };
      return [
        await errorOf(() => cache.put("https://x.test/a", new Response("p", { status: 206, headers: fresh }))),
        await errorOf(() => cache.put("https://x.test/b", new Response("v", { headers: { ...fresh, vary: "Accept, *" } }))),
        await errorOf(() => cache.put(new Request("https://x.test/c", { method: "POST" }), new Response("x", { headers: fresh }))),
        await errorOf(() => cache.put("https://x.test/d", "not a response")),
        await errorOf(() => cache.put("https://x.test/e", new Response("ok", { headers: fresh }))),
      ];`,
    );
    expect(result).toEqual([
      "TypeError: Cannot cache response to a range request (206 Partial Content).",
      "TypeError: Cannot cache response with 'Vary: *' header.",
      "TypeError: Cannot cache response to non-GET request.",
      "TypeError: Argument 2 must be a Response.",
      "no error",
    ]);
  });

  it("matches only GET unless ignoreMethod, and delete purges an entry (true once, then false)", async () => {
    const runner = runnerOver(storeIn().store);
    const result = await evaluate(
      runner,
      `const cache = caches.default;
      await cache.put("https://x.test/p#frag", new Response("stored", { headers: { "cache-control": "max-age=60" } }));
      const head = new Request("https://x.test/p", { method: "HEAD" });
      return {
        byUrl: await (await cache.match("https://x.test/p")).text(),
        head: (await cache.match(head)) === undefined,
        headIgnoringMethod: (await cache.match(head, { ignoreMethod: true }))?.status,
        deleted: await cache.delete("https://x.test/p"),
        deletedAgain: await cache.delete("https://x.test/p"),
        after: (await cache.match("https://x.test/p")) === undefined,
      };`,
    );
    expect(result).toEqual({
      byUrl: "stored",
      head: true,
      headIgnoringMethod: 200,
      deleted: true,
      deletedAgain: false,
      after: true,
    });
  });

  it("keeps caches.open(name) caches apart from each other and from caches.default", async () => {
    const runner = runnerOver(storeIn().store);
    const result = await evaluate(
      runner,
      `const fresh = { "cache-control": "max-age=60" };
      const a = await caches.open("a");
      await a.put("https://x.test/k", new Response("in a", { headers: fresh }));
      await caches.default.put("https://x.test/k", new Response("in default", { headers: fresh }));
      return [
        await (await (await caches.open("a")).match("https://x.test/k")).text(),
        await (await caches.default.match("https://x.test/k")).text(),
        (await (await caches.open("b")).match("https://x.test/k")) === undefined,
      ];`,
    );
    expect(result).toEqual(["in a", "in default", true]);
  });

  it("answers If-None-Match and If-Modified-Since with 304, and Range with 206 or 416", async () => {
    const runner = runnerOver(storeIn().store);
    const modified = new Date(Date.now() - 3_600_000).toUTCString();
    const result = await evaluate(
      runner,
      `const cache = caches.default;
      await cache.put("https://x.test/v", new Response("0123456789", { headers: {
        "cache-control": "max-age=60", etag: '"v1"', "last-modified": ${JSON.stringify(modified)} } }));
      const ask = async (headers) => {
        const r = await cache.match(new Request("https://x.test/v", { headers }));
        return [r.status, r.headers.get("etag"), r.headers.get("content-range"), await r.text()];
      };
      return [
        await ask({ "if-none-match": 'W/"v1"' }),
        await ask({ "if-none-match": '"v0"' }),
        await ask({ "if-modified-since": new Date().toUTCString() }),
        await ask({ range: "bytes=2-4" }),
        await ask({ range: "bytes=-3" }),
        await ask({ range: "bytes=50-" }),
      ];`,
    );
    expect(result).toEqual([
      [304, '"v1"', null, ""],
      [200, '"v1"', null, "0123456789"],
      [304, '"v1"', null, ""],
      [206, '"v1"', "bytes 2-4/10", "234"],
      [206, '"v1"', "bytes 7-9/10", "789"],
      [416, '"v1"', "bytes */10", ""],
    ]);
  });

  it("answers many concurrent operations of one request, each with its own result", async () => {
    const runner = runnerOver(storeIn().store);
    const result = await evaluate(
      runner,
      `const cache = caches.default;
      const fresh = { "cache-control": "max-age=60" };
      const keys = Array.from({ length: 20 }, (_, i) => "https://x.test/c" + i);
      await Promise.all(keys.map((k, i) => cache.put(k, new Response("v" + i, { headers: fresh }))));
      const found = await Promise.all(keys.map(async (k) => (await cache.match(k)).text()));
      const deleted = await Promise.all(keys.map((k, i) => (i % 2 ? cache.delete(k) : Promise.resolve(null))));
      return { found, deleted: deleted.filter((d) => d === true).length };`,
    );
    expect(result).toEqual({ found: Array.from({ length: 20 }, (_, i) => `v${i}`), deleted: 10 });
  });

  it("rejects a put whose body is past the per-entry bound", async () => {
    const runner = runnerOver(storeIn(undefined, { maxEntryBytes: 1024 }).store);
    const result = await evaluate(
      runner,
      `const fresh = { "cache-control": "max-age=60" };
      return [
        await errorOf(() => caches.default.put("https://x.test/big", new Response("x".repeat(2048), { headers: fresh }))),
        (await caches.default.match("https://x.test/big")) === undefined,
      ];`,
    );
    expect(result).toEqual(["Error: The response body is too large to cache (limit 1024 bytes).", true]);
  });
});

describe("fetch() with cf caching options", () => {
  const FETCH_CF = (cf: string) => `export default { async fetch(request) {
    const url = new URL(request.url);
    const response = await fetch(ORIGIN + url.pathname + url.search, { cf: ${cf} });
    return new Response(await response.text(), { status: response.status, headers: response.headers });
  } };`;

  it("caches subrequests for cacheTtl whatever the origin says, HIT the second time", async () => {
    const runner = runnerOver(storeIn().store);
    const url = `https://site.test/cf-ttl${q({ "cache-control": "no-store" })}`;
    const first = await request(runner, FETCH_CF("{ cacheTtl: 60 }"), url);
    const second = await request(runner, FETCH_CF("{ cacheTtl: 60 }"), url);
    expect(first.headers["cf-cache-status"]).toBe("MISS");
    expect(second).toMatchObject({ text: "body of /cf-ttl #1" });
    expect(second.headers["cf-cache-status"]).toBe("HIT");
    expect(originHits.get("/cf-ttl")).toBe(1);
  });

  it("with cacheEverything follows the origin's headers, and cacheKey replaces the URL as key", async () => {
    const runner = runnerOver(storeIn().store);
    const noStore = `https://site.test/cf-all${q({ "cache-control": "no-store" })}`;
    await request(runner, FETCH_CF("{ cacheEverything: true }"), noStore);
    await request(runner, FETCH_CF("{ cacheEverything: true }"), noStore);
    expect(originHits.get("/cf-all")).toBe(2);
    const keyed = FETCH_CF('{ cacheEverything: true, cacheKey: "shared-key" }');
    await request(runner, keyed, `https://site.test/cf-key-a${q({ "cache-control": "max-age=60" })}`);
    const other = await request(runner, keyed, "https://site.test/cf-key-b");
    expect(other).toMatchObject({ text: "body of /cf-key-a #1" });
    expect(originHits.get("/cf-key-b")).toBeUndefined();
    const plain = await request(runner, FETCH_CF("undefined"), "https://site.test/cf-key-b");
    expect(plain.headers["cf-cache-status"]).toBeUndefined();
  });
});

describe("Cache API: the node's store", () => {
  it("evicts the least recently used entries once the size bound is passed", async () => {
    const { store } = storeIn(undefined, { maxBytes: 3500 });
    const runner = runnerOver(store);
    const result = await evaluate(
      runner,
      `const cache = caches.default;
      const fresh = { "cache-control": "max-age=60" };
      for (const k of ["a", "b", "c"]) await cache.put("https://x.test/" + k, new Response(k.repeat(1000), { headers: fresh }));
      await cache.match("https://x.test/a");
      await cache.put("https://x.test/d", new Response("d".repeat(1000), { headers: fresh }));
      const present = [];
      for (const k of ["a", "b", "c", "d"]) if (await cache.match("https://x.test/" + k)) present.push(k);
      return present;`,
    );
    expect(result).toEqual(["a", "c", "d"]);
    expect(store.bytes).toBeLessThanOrEqual(3500);
  });

  it("keeps entries across a node restart", async () => {
    const { store, dir } = storeIn();
    const url = `https://site.test/persist${q({ "cache-control": "max-age=600" })}`;
    await request(runnerOver(store), CACHE_FIRST, url);
    store.close();
    const reopened = storeIn(dir).store;
    const after = await request(runnerOver(reopened), CACHE_FIRST, url);
    expect(after).toMatchObject({ text: "body of /persist #1" });
    expect(after.headers["cf-cache-status"]).toBe("HIT");
    expect(reopened.bytes).toBeGreaterThan(0);
  });

  it("never shares entries between two scripts, nor between two PoPs' nodes", async () => {
    const fra = runnerOver(storeIn().store);
    const iad = runnerOver(storeIn().store);
    const url = `https://shared.test/iso${q({ "cache-control": "max-age=60" })}`;
    await request(fra, CACHE_FIRST, url, { script: "one" });
    expect((await request(fra, CACHE_FIRST, url, { script: "one" })).headers["cf-cache-status"]).toBe("HIT");
    expect(
      (await request(fra, CACHE_FIRST, url, { script: "two" })).headers["cf-cache-status"],
    ).toBeUndefined();
    expect(
      (await request(iad, CACHE_FIRST, url, { script: "one" })).headers["cf-cache-status"],
    ).toBeUndefined();
    expect(originHits.get("/iso")).toBe(3);
  });
});
