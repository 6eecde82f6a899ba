import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import { type RedisServer, startRedisServer } from "../testing/redis-server.js";
import { openStore } from "./open-store.js";
import type { NewVersion, Store } from "./types.js";

describe("openStore", () => {
  let dir: string;
  let redis: RedisServer;
  const stores: Store[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edge-open-store-"));
    // Its own server, even with EDGE_TEST_REDIS_URL set: openStore writes under the default edge: prefix.
    redis = await startRedisServer();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (spec: string): Promise<Store> => {
    const store = await openStore(spec);
    stores.push(store);
    return store;
  };

  it("opens an in-memory store for 'memory'", async () => {
    const store = await open("memory");
    await store.putVersion("a", input("a1"));
    expect((await store.getActive("a"))?.source).toBe("a1");
  });

  it("opens an SQLite file for 'sqlite:<path>' and for a plain path", async () => {
    const viaScheme = join(dir, "scheme", "edge.db");
    const plain = join(dir, "plain", "edge.db");
    await (await open(`sqlite:${viaScheme}`)).putVersion("a", input("a1"));
    await (await open(plain)).putVersion("b", input("b1"));
    expect(existsSync(viaScheme)).toBe(true);
    expect(existsSync(plain)).toBe(true);
  });

  it("opens a Redis store for a redis:// URL", async () => {
    const store = await open(redis.url);
    await store.putVersion("r", input("r1"));
    expect((await store.getActive("r"))?.source).toBe("r1");
  });

  it("rejects an unknown scheme with an EDGE_INVALID_CONFIG error that names EDGE_STORE", async () => {
    const error = await openStore("postgres://user:secret@db/edge").catch((e: unknown) => e);
    expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
    expect(String(error)).toContain("EDGE_STORE");
    expect(String(error)).toContain("postgres");
    // The password in the URL is not repeated.
    expect(String(error)).not.toContain("secret");
  });

  it("rejects an empty spec and a bare 'sqlite:' with a message naming EDGE_STORE", async () => {
    await expect(openStore("  ")).rejects.toThrow(/EDGE_STORE/);
    await expect(openStore("sqlite:")).rejects.toThrow(/EDGE_STORE/);
  });
});

function input(source: string): NewVersion {
  return { sha256: "0".repeat(64), source, vars: {}, limits: { cpuMs: 50, memoryMb: 128, wallMs: 1_000 } };
}
