import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import { type RedisSentinel, startRedisSentinel } from "../testing/redis-sentinel.js";
import { type RedisServer, startRedisServer } from "../testing/redis-server.js";
import { openStore } from "./open-store.js";
import { redisTarget } from "./redis-target.js";
import type { NewVersion, Store } from "./types.js";

const MASTER = "edgemaster";

function input(source: string): NewVersion {
  return { sha256: `sha-${source}`, source, vars: {}, limits: { cpuMs: 50, memoryMb: 128, wallMs: 1000 } };
}

async function replicate(replica: RedisServer, primary: RedisServer): Promise<void> {
  const client = new Redis(replica.url);
  try {
    await client.replicaof("127.0.0.1", String(primary.port));
    for (let i = 0; i < 200; i++) {
      if ((await client.info("replication")).includes("master_link_status:up")) return;
      await sleep(50);
    }
    throw new Error("the replica never caught up");
  } finally {
    client.disconnect();
  }
}

describe("a Redis store behind Sentinel", () => {
  it("reads the sentinels, the primary's name and the data nodes' password from EDGE_STORE", () => {
    expect(
      redisTarget("redis-sentinel://:pw@127.0.0.1:26379,[::1]:26380/mymaster?db=2&sentinelPassword=sp"),
    ).toEqual({
      kind: "sentinel",
      options: {
        sentinels: [
          { host: "127.0.0.1", port: 26379 },
          { host: "::1", port: 26380 },
        ],
        name: "mymaster",
        password: "pw",
        db: 2,
        sentinelPassword: "sp",
      },
    });
    expect(redisTarget("redis://h:6379")).toEqual({ kind: "url", url: "redis://h:6379" });
    for (const bad of [
      "redis-sentinel://h:26379",
      "redis-sentinel://h:99999/m",
      "redis-sentinel://h/m?db=x",
    ]) {
      expect(() => redisTarget(bad)).toThrow(/EDGE_STORE/);
    }
  });

  describe("failing over during a burst of deploys", () => {
    const servers: RedisServer[] = [];
    const sentinels: RedisSentinel[] = [];
    let store: Store;

    beforeAll(async () => {
      for (let i = 0; i < 3; i++) servers.push(await startRedisServer());
      const [primary, ...replicas] = servers as [RedisServer, RedisServer, RedisServer];
      for (const replica of replicas) await replicate(replica, primary);
      for (let i = 0; i < 3; i++) {
        sentinels.push(
          await startRedisSentinel({ masterName: MASTER, primaryPort: primary.port, quorum: 2 }),
        );
      }
      const hosts = sentinels.map((s) => `127.0.0.1:${s.port}`).join(",");
      store = await openStore(`redis-sentinel://${hosts}/${MASTER}`, {
        redis: { minReplicas: 1, replicaWaitMs: 2_000 },
      });
    }, 60_000);

    afterAll(async () => {
      await store?.close();
      for (const s of sentinels) await s.stop();
      for (const s of servers) await s.stop();
    });

    it("loses no acknowledged deploy and follows the new primary by itself", async () => {
      const acknowledged = new Map<number, string>();
      const refused: string[] = [];
      let killedAt = -1;
      const deadline = Date.now() + 60_000;
      for (let i = 1; Date.now() < deadline; i++) {
        try {
          const version = await store.putVersion("burst", input(`deploy ${i}`));
          acknowledged.set(version.version, `deploy ${i}`);
        } catch (error) {
          // While there is no primary, writes fail as a clear 503: never acknowledged.
          expect(isEdgeError(error) && error.code === "EDGE_STORE_UNAVAILABLE").toBe(true);
          refused.push(String(error));
          await sleep(100);
        }
        if (killedAt === -1 && acknowledged.size === 20) {
          killedAt = acknowledged.size;
          await servers[0]!.stopOnly("SIGKILL");
        }
        if (killedAt !== -1 && acknowledged.size >= killedAt + 20) break;
      }
      expect(killedAt).toBe(20);
      // The store reconnected to the elected primary on its own and kept accepting deploys.
      expect(acknowledged.size).toBeGreaterThanOrEqual(40);
      for (const [version, source] of acknowledged) {
        expect((await store.getVersion("burst", version))?.source).toBe(source);
      }
      const summary = await store.getSummary("burst");
      // A write refused only because its WAIT timed out may still be there: never fewer versions than acknowledged.
      expect(summary?.latestVersion).toBeGreaterThanOrEqual(Math.max(...acknowledged.keys()));
      process.stdout.write(
        `sentinel failover: ${acknowledged.size} deploys acknowledged, ${refused.length} refused during the failover, none lost\n`,
      );
    }, 90_000);
  });
});
