import { setTimeout as sleep } from "node:timers/promises";
import {
  type RedisSentinel,
  type RedisServer,
  startRedisSentinel,
  startRedisServer,
} from "@edge/control-plane/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  hit,
  POPS,
  startControlPlane,
  startEdgeNode,
  TOKEN,
} from "./harness/cluster.js";

/**
 * The store outlives a Redis host: a control plane on a Sentinel set (one primary, two replicas,
 * three sentinels, all real processes) keeps taking deploys across a primary crash, loses none it
 * acknowledged, and every node converges on the last one.
 */
const MASTER = "edge-e2e";
const servers: RedisServer[] = [];
const sentinels: RedisSentinel[] = [];
let cp: ControlPlane;
const nodes: EdgeNodeProc[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startRedisServer());
  for (const replica of servers.slice(1)) {
    const client = new Redis(replica.url);
    await client.replicaof("127.0.0.1", String(servers[0]!.port));
    client.disconnect();
  }
  for (let i = 0; i < 3; i++) {
    sentinels.push(
      await startRedisSentinel({ masterName: MASTER, primaryPort: servers[0]!.port, quorum: 2 }),
    );
  }
  const hosts = sentinels.map((s) => `127.0.0.1:${s.port}`).join(",");
  cp = await startControlPlane(`redis-sentinel://${hosts}/${MASTER}`, 0, { EDGE_REDIS_MIN_REPLICAS: "1" });
  for (const spec of POPS.slice(0, 2)) nodes.push(await startEdgeNode(spec, cp.grpcPort));
}, 90_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.proc.stop()));
  await cp?.proc.stop();
  for (const s of sentinels) await s.stop();
  for (const s of servers) await s.stop();
});

const source = (i: number) => `export default { fetch: () => new Response("deploy ${i}") };\n`;

describe("a control plane on Redis Sentinel", () => {
  it("keeps every acknowledged deploy through a primary crash, and every node converges", async () => {
    const acknowledged = new Map<number, number>();
    let killed = false;
    const deadline = Date.now() + 60_000;
    for (let i = 1; Date.now() < deadline && acknowledged.size < 30; i++) {
      const res = await api(cp, "PUT", "/v1/scripts/burst", source(i), "application/javascript");
      if (res.status === 201) acknowledged.set(Number(res.json?.version), i);
      else {
        // No primary for a moment: a clear 503, never an acknowledgement.
        expect(res.status).toBe(503);
        await sleep(100);
      }
      if (!killed && acknowledged.size === 10) {
        killed = true;
        await servers[0]!.stopOnly("SIGKILL");
      }
    }
    expect(acknowledged.size).toBe(30);
    for (const [version, i] of acknowledged) {
      const res = await fetch(`${cp.api}/v1/scripts/burst/source?version=${version}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(await res.text()).toBe(source(i));
    }
    const last = Math.max(...acknowledged.keys());
    const active = await api(cp, "GET", "/v1/scripts/burst");
    expect(Number(active.json?.version)).toBeGreaterThanOrEqual(last);
    // The active version is the last acknowledged one, or a later write whose acknowledgement was lost.
    const activeSource = await fetch(`${cp.api}/v1/scripts/burst/source`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }).then((r) => r.text());
    const body = /"(deploy \d+)"/.exec(activeSource)?.[1];
    for (const node of nodes) {
      await eventually(async () => (await hit(node, "burst")).text === body, `${node.pop} converges`, 30_000);
    }
  }, 120_000);
});
