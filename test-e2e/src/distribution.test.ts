import { type RedisServer, startRedisServer } from "@edge/control-plane/testing";
import { canaryBucket } from "@edge/edge-node";
import { requestWithHost } from "@edge/edge-node/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hit, POPS } from "./harness/cluster.js";
import {
  call,
  listNodes,
  type NodeProc,
  Prober,
  type Replica,
  startNode,
  startReplica,
  TcpProxy,
  versioned,
} from "./harness/distribution.js";

/**
 * Config distribution under faults, with real processes: Redis (AOF,
 * appendfsync always), two control-plane replicas, edge nodes spread over
 * them (each lists both replicas, in a different order). After every fault:
 * no acknowledged deploy is lost, every PoP converges on the latest version,
 * and the edge answered every request during the fault with an old or the
 * new version.
 */
describe("config distribution: two replicas on one Redis, under faults", () => {
  let redis: RedisServer;
  let a: Replica;
  let b: Replica;
  let nodes: NodeProc[] = [];
  /** Every version any replica acknowledged (201), by script. */
  const acked = new Map<string, number[]>();

  beforeAll(async () => {
    redis = await startRedisServer({ appendonly: true });
    a = await startReplica("cp-a", redis.url);
    b = await startReplica("cp-b", redis.url);
    const [fra, iad, sin] = POPS as [(typeof POPS)[0], (typeof POPS)[0], (typeof POPS)[0]];
    nodes = await Promise.all([
      startNode(fra, [a.grpcAddress, b.grpcAddress]),
      startNode(iad, [b.grpcAddress, a.grpcAddress]),
      startNode(sin, [a.grpcAddress, b.grpcAddress]),
    ]);
    await allHealthyOn(a, 3);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await a?.proc.stop();
    await b?.proc.stop();
    await redis?.stop();
  });

  async function allHealthyOn(replica: Replica, count: number, timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => (await listNodes(replica)).filter((n) => n.status === "healthy").length === count,
      `${count} healthy nodes listed by ${replica.id}`,
      timeoutMs,
    );
  }

  async function deploy(replica: Replica, script: string, tag: string, padBytes = 0): Promise<number | null> {
    try {
      const res = await call(replica, "PUT", `/v1/scripts/${script}`, versioned(tag, padBytes));
      if (res.status !== 201) return null;
      const version = res.json?.version as number;
      acked.set(script, [...(acked.get(script) ?? []), version]);
      return version;
    } catch {
      return null;
    }
  }

  const serveAll = (script: string, version: number, on: NodeProc[] = nodes, timeoutMs = 20_000) =>
    eventually(
      async () => {
        const answers = await Promise.all(on.map((n) => hit(n, script)));
        return answers.every((x) => x.status === 200 && x.version === String(version));
      },
      `every PoP serves ${script} v${version}`,
      timeoutMs,
    );

  async function storedVersions(replica: Replica, script: string): Promise<number[]> {
    const { json } = await call(replica, "GET", `/v1/scripts/${script}/versions`);
    return ((json?.versions ?? []) as Array<{ version: number }>).map((v) => v.version);
  }

  it("sends a deploy accepted by one replica to the nodes of the other, and lists every node on each", async () => {
    const version = await deploy(b, "hello", "hello v1");
    expect(version).toBe(1);
    await serveAll("hello", 1);
    for (const replica of [a, b]) {
      await eventually(async () => {
        const listed = await listNodes(replica);
        return listed.length === 3 && listed.every((n) => n.status === "healthy" && n.scripts.hello === 1);
      }, `${replica.id} lists every node on hello v1`);
    }
    const byNode = Object.fromEntries((await listNodes(a)).map((n) => [n.id, n.controlPlaneId]));
    expect(byNode).toEqual({ "fra-1": "cp-a", "iad-1": "cp-b", "sin-1": "cp-a" });
  });

  it("rolls a version out to one PoP, then to a share of every PoP's clients, then promotes it", async () => {
    const put = await call(a, "PUT", "/v1/scripts/hello?activate=false", versioned("hello v2"));
    expect(put.json).toMatchObject({ version: 2 });
    const [fra, iad, sin] = nodes as [NodeProc, NodeProc, NodeProc];

    expect((await call(b, "POST", "/v1/scripts/hello/deploy", { version: 2, pops: ["iad"] })).status).toBe(
      200,
    );
    await serveAll("hello", 2, [iad]);
    await serveAll("hello", 1, [fra, sin]);
    await eventually(async () => {
      const { json } = await call(a, "GET", "/v1/scripts/hello");
      const rollout = (json?.rollout ?? []) as Array<{ pop: string; version: number }>;
      return (
        rollout.find((r) => r.pop === "iad")?.version === 2 &&
        rollout.filter((r) => r.version === 1).length === 2
      );
    }, "the rollout view to show iad on v2");

    expect((await call(a, "POST", "/v1/scripts/hello/deploy", { version: 2, percent: 50 })).status).toBe(200);
    const clients = Array.from({ length: 24 }, (_, i) => `203.0.113.${i}`);
    const expected = (client: string) => (canaryBucket("hello", client) < 50 ? "2" : "1");
    await eventually(async () => {
      for (const node of nodes) {
        for (const client of clients) {
          const res = await requestWithHost(node.base, "hello.localhost", "/", {
            headers: { "x-forwarded-for": client },
          });
          if (res.headers["x-edge-script-version"] !== expected(client)) return false;
        }
      }
      return true;
    }, "every PoP to split by client the same way");

    const promoted = await call(b, "POST", "/v1/scripts/hello/promote");
    expect(promoted.json).toMatchObject({ activeVersion: 2, staged: null });
    await serveAll("hello", 2);
  });

  it("loses no acknowledged deploy when a replica is killed -9 in the middle of a burst, and every PoP converges", async () => {
    expect(await deploy(a, "burst", "burst 0")).toBe(1);
    await serveAll("burst", 1);
    const prober = new Prober(nodes, "burst");
    try {
      let sent = 0;
      let target = a;
      let killed: Promise<unknown> | null = null;
      while (sent < 30) {
        sent += 1;
        const version = await deploy(target, "burst", `burst ${sent}`);
        if (sent === 10) killed = a.proc.stop("SIGKILL");
        if (version === null && target === a) target = b;
      }
      await killed;
      const latest = Math.max(...(acked.get("burst") ?? []));
      expect((acked.get("burst") ?? []).length).toBeGreaterThanOrEqual(20);
      // Every acknowledged version is stored, and the last one is active.
      const stored = await storedVersions(b, "burst");
      for (const version of acked.get("burst") ?? []) expect(stored).toContain(version);
      expect((await call(b, "GET", "/v1/scripts/burst")).json).toMatchObject({ version: latest });
      await serveAll("burst", latest);
      await prober.stop();
      expect(prober.failures(stored)).toEqual([]);
      expect(prober.answers.length).toBeGreaterThan(30);
      // The nodes of the dead replica failed over to the survivor.
      await eventually(async () => {
        const listed = await listNodes(b);
        return listed.filter((n) => n.status === "healthy" && n.controlPlaneId === "cp-b").length === 3;
      }, "every node healthy on cp-b");
    } finally {
      await prober.stop();
    }
    // Back for the next tests, on the same port the nodes know.
    a = await startReplica("cp-a", redis.url, { grpcPort: a.grpcPort });
  });

  it("keeps serving through a Redis crash and restart, loses no acknowledged deploy, and both replicas follow again", async () => {
    const before = await deploy(b, "burst", "before the crash");
    expect(before).not.toBeNull();
    await serveAll("burst", before!);
    const prober = new Prober(nodes, "burst");
    try {
      await redis.stopOnly("SIGKILL");
      // Redis is down: a deploy is refused (503), never acknowledged and then lost.
      const during = await call(b, "PUT", "/v1/scripts/burst", versioned("during the crash"));
      expect(during.status).toBe(503);
      await redis.start();
      await eventually(async () => (await call(a, "GET", "/readyz")).status === 200, "cp-a ready again");
      await eventually(async () => (await call(b, "GET", "/readyz")).status === 200, "cp-b ready again");

      // Written through cp-a; the nodes sit on cp-b, which hears of it through its resumed change feed.
      const after = await deploy(a, "burst", "after the crash");
      expect(after).not.toBeNull();
      await serveAll("burst", after!);
      await prober.stop();
      const stored = await storedVersions(b, "burst");
      for (const version of acked.get("burst") ?? []) expect(stored).toContain(version);
      expect(prober.failures(stored)).toEqual([]);
    } finally {
      await prober.stop();
    }
  });

  it("restarts a killed edge node from its cache while every replica is down, then catches up", async () => {
    const latest = Math.max(...(acked.get("burst") ?? []));
    await Promise.all([a.proc.stop("SIGKILL"), b.proc.stop("SIGKILL")]);
    const index = nodes.findIndex((n) => n.pop === "fra");
    const old = nodes[index]!;
    await old.proc.stop("SIGKILL");

    const fra = await startNode(POPS[0]!, [a.grpcAddress, b.grpcAddress], { cacheDir: old.cacheDir });
    nodes[index] = fra;
    // No control plane anywhere: the first request already gets the last version it applied.
    const first = await hit(fra, "burst");
    expect(first).toMatchObject({ status: 200, version: String(latest) });
    expect((await hit(fra, "hello")).version).toBe("2");

    a = await startReplica("cp-a", redis.url, { grpcPort: a.grpcPort });
    b = await startReplica("cp-b", redis.url, { grpcPort: b.grpcPort });
    await allHealthyOn(b, 3, 30_000);
    const next = await deploy(b, "burst", "after the outage");
    await serveAll("burst", next!);
  });

  it("converges after a node's stream is cut in the middle of a large push", async () => {
    const proxy = new TcpProxy({ host: "127.0.0.1", port: b.grpcPort });
    await proxy.listen();
    const ams = await startNode({ pop: "ams", lat: 52.37, lon: 4.9 }, [`127.0.0.1:${proxy.port}`]);
    try {
      const base = await deploy(b, "large", "large small");
      await serveAll("large", base!, [ams]);
      const prober = new Prober([ams], "large");
      try {
        // About 900 KB of source: the push spans many HTTP/2 frames, and the cut lands inside it.
        proxy.cutAfter(200_000);
        const big = await deploy(b, "large", "large big", 900_000);
        await serveAll("large", big!, [ams]);
        expect(proxy.cuts).toBe(1);
        await prober.stop();
        expect(prober.failures([base!, big!])).toEqual([]);
      } finally {
        await prober.stop();
      }
    } finally {
      await ams.proc.stop();
      await proxy.close();
    }
  });
});
