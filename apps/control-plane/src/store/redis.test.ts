import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import { freePort } from "../testing/free-port.js";
import { type RedisServer, startRedisServer } from "../testing/redis-server.js";
import { startTestRedis, type TestRedis } from "../testing/test-redis.js";
import { storeContract } from "./contract.js";
import { createRedisStore } from "./redis.js";
import type { NewVersion, Store } from "./types.js";

let shared: TestRedis;

beforeAll(async () => {
  shared = await startTestRedis();
});

afterAll(async () => {
  await shared?.stop();
});

// Every contract test gets its own key prefix on the one server, so tests never see each other's data.
storeContract("redis", async () => {
  const keyPrefix = shared.uniquePrefix();
  return {
    store: await createRedisStore(shared.url, { keyPrefix }),
    reopen: () => createRedisStore(shared.url, { keyPrefix }),
    cleanup: async () => {},
  };
});

/**
 * Redis-only behaviour. These tests restart servers or list raw keys, so each
 * spawns a redis-server of its own, even when EDGE_TEST_REDIS_URL is set.
 */
describe("redis store against its own server", () => {
  let server: RedisServer | undefined;
  const stores: Store[] = [];

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await server?.stop();
    server = undefined;
  });

  const open = async (url: string, keyPrefix?: string): Promise<Store> => {
    const store = await createRedisStore(url, keyPrefix === undefined ? {} : { keyPrefix });
    stores.push(store);
    return store;
  };

  it("keeps acknowledged writes across a server restart when appendonly is on", async () => {
    server = await startRedisServer({ appendonly: true });
    const store = await open(server.url);
    await store.putVersion("durable", input("v1"), 1_000);
    await store.putVersion("durable", input("v2"), 2_000);
    await store.setActive("durable", 1, 3_000);

    await server.restart();

    const after = await open(server.url);
    expect(await after.getSummary("durable")).toMatchObject({ activeVersion: 1, latestVersion: 2 });
    expect(await after.revision()).toBe(3);
    // The restarted server has no cached Lua scripts: writes must still work.
    expect((await after.putVersion("durable", input("v3"))).version).toBe(3);
  });

  it("fails ping with EDGE_STORE_UNAVAILABLE while Redis is down and recovers once it is back", async () => {
    server = await startRedisServer({ appendonly: true });
    const store = await open(server.url);
    await store.putVersion("a", input("a1"));

    const running = server;
    server = undefined;
    await running.stop();
    const error = await store.ping().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isEdgeError(error) && error.code).toBe("EDGE_STORE_UNAVAILABLE");

    server = await startRedisServer({ port: running.port });
    await expect
      .poll(
        () =>
          store.ping().then(
            () => "up",
            () => "down",
          ),
        { timeout: 10_000 },
      )
      .toBe("up");
    // A fresh server without the AOF starts empty; the same Store object writes to it again.
    expect((await store.putVersion("a", input("a2"))).version).toBe(1);
  });

  it("rejects with EDGE_STORE_UNAVAILABLE when nothing listens at the URL", async () => {
    const port = await freePort();
    const error = await createRedisStore(`redis://127.0.0.1:${port}`).then(
      async (store) => {
        await store.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(isEdgeError(error) && error.code).toBe("EDGE_STORE_UNAVAILABLE");
  });

  it("keeps its keys under edge: by default and stores with different prefixes apart", async () => {
    server = await startRedisServer();
    const plain = await open(server.url);
    const other = await open(server.url, "tenant-b:");
    await plain.putVersion("hello", input("default"));
    await other.putVersion("hello", input("b1"));
    await other.putVersion("hello", input("b2"));

    expect((await plain.getActive("hello"))?.source).toBe("default");
    expect((await other.getActive("hello"))?.version).toBe(2);

    const raw = new Redis(server.url);
    try {
      const keys = (await raw.keys("*")).sort();
      expect(keys).toEqual([
        "edge:changes",
        "edge:revision",
        "edge:script:hello",
        "edge:scripts",
        "edge:version:hello:1",
        "edge:versions:hello",
        "tenant-b:changes",
        "tenant-b:revision",
        "tenant-b:script:hello",
        "tenant-b:scripts",
        "tenant-b:version:hello:1",
        "tenant-b:version:hello:2",
        "tenant-b:versions:hello",
      ]);
    } finally {
      await raw.quit();
    }
  });

  it("appends every mutation to the change stream, in revision order, in the same step as the write", async () => {
    server = await startRedisServer();
    const store = await open(server.url);
    await store.putVersion("app", input("a1"));
    await store.putVersion("app", input("a2"), Date.now(), { activate: false });
    await store.startRollout("app", { version: 2, percent: 25 });
    await store.finishRollout("app", "promote");
    await store.setActive("app", 1);
    await store.setActive("app", 9);
    await store.deleteScript("app");

    const raw = new Redis(server.url);
    try {
      const entries = (await raw.xrange("edge:changes", "-", "+")).map(([, fields]) => fields);
      expect(entries).toEqual([
        ["rev", "1", "op", "put", "name", "app", "version", "1"],
        ["rev", "2", "op", "put", "name", "app", "version", "2"],
        ["rev", "3", "op", "rollout", "name", "app", "version", "2"],
        ["rev", "4", "op", "promote", "name", "app", "version", "2"],
        ["rev", "5", "op", "activate", "name", "app", "version", "1"],
        ["rev", "6", "op", "delete", "name", "app", "version", "0"],
      ]);
      expect(await store.revision()).toBe(6);
    } finally {
      await raw.quit();
    }
  });

  it("keeps watching through a Redis restart: reports the outage, then the writes made after it", async () => {
    server = await startRedisServer({ appendonly: true });
    const writer = await open(server.url);
    const reader = await open(server.url);
    let changes = 0;
    let errors = 0;
    const watch = reader.watch({ onChange: () => void changes++, onError: () => void errors++ });
    try {
      await until(() => changes >= 1, "the watch to be established");
      await writer.putVersion("before", input("b"));
      await until(() => changes >= 2, "the first write");

      await server.restart();
      await until(() => errors >= 1 && changes >= 3, "the outage and the recovery");
      const seen = changes;
      // ioredis reconnects the writer on its own; a write may fail while it does.
      await until(async () => {
        await writer.putVersion("after", input("a")).catch(() => null);
        return (await writer.getSummary("after")) !== null;
      }, "a write after the restart");
      await until(() => changes > seen, "the write after the restart");
      expect(await reader.getSummary("before")).not.toBeNull();
    } finally {
      await watch.close();
    }
  });

  it("keeps only the version counter of a deleted script", async () => {
    server = await startRedisServer();
    const store = await open(server.url);
    await store.putVersion("gone", input("g1"));
    await store.putVersion("gone", input("g2"));
    await store.deleteScript("gone");

    const raw = new Redis(server.url);
    try {
      expect((await raw.keys("edge:*")).sort()).toEqual([
        "edge:changes",
        "edge:revision",
        "edge:script:gone",
      ]);
      expect(await raw.hgetall("edge:script:gone")).toEqual({ latest: "2" });
    } finally {
      await raw.quit();
    }
  });
});

/** Polls `probe` every 20 ms until it holds; fails after 10 s. */
async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function input(source: string): NewVersion {
  return { sha256: "0".repeat(64), source, vars: {}, limits: { cpuMs: 50, memoryMb: 128, wallMs: 1_000 } };
}
