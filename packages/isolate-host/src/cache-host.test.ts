import { describe, expect, it } from "vitest";
import { freshSeconds, storable } from "./cache/policy.js";
import { type CacheAccess, type CacheEntry, type CacheProvider, cacheKey, runCacheOp } from "./host/cache.js";

/**
 * The Cache API host operation takes its request from the script's isolate:
 * a hostile script can call it with anything. Keys always carry the calling
 * script's name (from the host, never the isolate); malformed arguments are
 * refused before the provider sees them.
 */

const stored = new Map<string, CacheEntry>();
const provider: CacheProvider = {
  get: (key) => stored.get(key) ?? null,
  put: (key, entry) => {
    stored.set(key, entry);
  },
  delete: (key) => stored.delete(key),
};
const access: CacheAccess = { provider, caller: { script: "mine" } };
let charged = 0;
const ctx = {
  charge(ms: number): void {
    charged += ms;
  },
};
const fresh: Array<[string, string]> = [["cache-control", "max-age=60"]];

describe("Cache API host operation", () => {
  it("keys entries by the calling script, cache name and URL without fragment, charging the script", async () => {
    stored.clear();
    charged = 0;
    const put = await runCacheOp(ctx, access, {
      op: "put",
      cache: "",
      url: "https://a.test/x#frag",
      status: 200,
      headers: fresh,
      body: new Uint8Array([1, 2]),
    });
    expect(put).toEqual({ ok: true });
    expect([...stored.keys()]).toEqual([cacheKey({ script: "mine" }, "", "https://a.test/x")]);
    expect(charged).toBeGreaterThan(0);
    const other = await runCacheOp(
      ctx,
      { provider, caller: { script: "theirs" } },
      { op: "match", cache: "", url: "https://a.test/x", headers: [] },
    );
    expect(other).toEqual({ ok: null });
  });

  it("refuses malformed requests from the isolate without reaching the provider", async () => {
    stored.clear();
    const bad: unknown[] = [
      null,
      "match",
      { op: "match", cache: "", url: "ftp://a.test/", headers: [] },
      { op: "match", cache: "", url: "not a url", headers: [] },
      { op: "match", cache: "", url: `https://a.test/${"x".repeat(20_000)}`, headers: [] },
      { op: "match", cache: 7, url: "https://a.test/", headers: [] },
      { op: "match", cache: "", url: "https://a.test/", headers: [["a", 1]] },
      { op: "match", cache: "", url: "https://a.test/", headers: Array(300).fill(["a", "b"]) },
      { op: "put", cache: "", url: "https://a.test/", status: 99, headers: fresh, body: new Uint8Array() },
      { op: "put", cache: "", url: "https://a.test/", status: 200, headers: fresh, body: "text" },
      { op: "drop", cache: "", url: "https://a.test/" },
    ];
    for (const request of bad) {
      const reply = await runCacheOp(ctx, access, request);
      expect(reply, JSON.stringify(request)?.slice(0, 80)).toMatchObject({ error: { name: "TypeError" } });
    }
    expect(stored.size).toBe(0);
    expect(await runCacheOp(ctx, null, { op: "match" })).toMatchObject({
      error: { name: "Error", message: "The Cache API is not available on this node" },
    });
  });

  it("computes freshness from s-maxage, then max-age, then Expires against Date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(freshSeconds([["cache-control", "max-age=10, s-maxage=20"]], now)).toBe(20);
    expect(freshSeconds([["Cache-Control", "public, max-age=10"]], now)).toBe(10);
    expect(
      freshSeconds(
        [
          ["date", "Thu, 01 Jan 2026 00:00:00 GMT"],
          ["expires", "Thu, 01 Jan 2026 00:01:00 GMT"],
        ],
        now + 30_000,
      ),
    ).toBe(60);
    expect(freshSeconds([["expires", "garbage"]], now)).toBeNull();
    expect(freshSeconds([["cache-control", "no-cache, max-age=10"]], now)).toBeNull();
    expect(freshSeconds([["cache-control", "max-age=0"]], now)).toBeNull();
  });

  it("falls back to Cloudflare's default Edge TTL by status, and stores private=Set-Cookie responses without the cookie", () => {
    const now = Date.now();
    expect(storable(200, [], now)?.ttl).toBe(7200);
    expect(storable(302, [], now)?.ttl).toBe(1200);
    expect(storable(404, [], now)?.ttl).toBe(180);
    expect(storable(500, [], now)).toBeNull();
    expect(storable(200, [["set-cookie", "a=1"]], now)).toBeNull();
    expect(storable(200, [["cache-control", "private"]], now)).toBeNull();
    expect(
      storable(
        200,
        [
          ["cache-control", 'max-age=60, private="Set-Cookie"'],
          ["set-cookie", "a=1"],
          ["etag", '"x"'],
        ],
        now,
      ),
    ).toEqual({
      ttl: 60,
      headers: [
        ["cache-control", 'max-age=60, private="Set-Cookie"'],
        ["etag", '"x"'],
      ],
    });
  });
});
