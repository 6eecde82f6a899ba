import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@edge/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./harness/cli.js";
import { eventually, POPS, TOKEN } from "./harness/cluster.js";
import {
  call,
  listNodes,
  type NodeProc,
  type Replica,
  startNode,
  startReplica,
} from "./harness/distribution.js";

/**
 * Cron Triggers with real processes: two control-plane replicas on one Redis
 * (EDGE_CRON_SECONDS=1, so `* * * * * *` ticks every second) and three edge
 * nodes, each listing both replicas. The script's scheduled() handler calls
 * an origin on loopback with its tick; the origin counts the calls. One
 * replica and one node are killed while ticks go on.
 */
const SCRIPT = `export default {
  async scheduled(controller, env) {
    await fetch(env.ORIGIN + "/tick?t=" + controller.scheduledTime + "&cron=" + encodeURIComponent(controller.cron));
  },
};`;

describe("Cron Triggers across two replicas and three nodes", () => {
  let redis: RedisServer;
  let origin: Server;
  let a: Replica;
  let b: Replica;
  let nodes: NodeProc[] = [];
  const hits = new Map<number, number>();
  const crons = new Set<string>();

  beforeAll(async () => {
    origin = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://origin");
      const tick = Number(url.searchParams.get("t"));
      hits.set(tick, (hits.get(tick) ?? 0) + 1);
      crons.add(url.searchParams.get("cron") ?? "");
      res.end("ok");
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const originPort = (origin.address() as AddressInfo).port;
    redis = await startRedisServer();
    const env = { EDGE_CRON_SECONDS: "1" };
    a = await startReplica("cp-a", redis.url, { env });
    b = await startReplica("cp-b", redis.url, { env });
    const nodeEnv = { env: { EDGE_FETCH_ALLOW: `127.0.0.1:${originPort}` } };
    const [fra, iad, sin] = POPS as [(typeof POPS)[0], (typeof POPS)[0], (typeof POPS)[0]];
    nodes = await Promise.all([
      startNode(fra, [a.grpcAddress, b.grpcAddress], nodeEnv),
      startNode(iad, [b.grpcAddress, a.grpcAddress], nodeEnv),
      startNode(sin, [a.grpcAddress, b.grpcAddress], nodeEnv),
    ]);
    await eventually(
      async () => (await listNodes(a)).filter((n) => n.status === "healthy").length === 3,
      "3 healthy nodes",
      20_000,
    );
    const deployed = await call(a, "PUT", "/v1/scripts/ticker", {
      source: SCRIPT,
      vars: { ORIGIN: `http://127.0.0.1:${originPort}` },
      triggers: { crons: ["* * * * * *"] },
    });
    expect(deployed.status).toBe(201);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await a?.proc.stop();
    await b?.proc.stop();
    await redis?.stop();
    await new Promise((resolve) => origin?.close(resolve));
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("runs a per-second trigger exactly once per tick while a replica and a node are killed", async () => {
    await eventually(async () => hits.size >= 2, "the first ticks run", 20_000);
    const killedAt: number[] = [];
    await sleep(2_000);
    killedAt.push(Date.now());
    await a.proc.stop("SIGKILL");
    await sleep(2_000);
    killedAt.push(Date.now());
    await nodes[1]!.proc.stop("SIGKILL");
    const after = Date.now();
    // Five whole ticks after both kills (and the nodes' failover to the other replica).
    await sleep(9_000);
    const end = Date.now() - 1_500;
    expect([...crons]).toEqual(["* * * * * *"]);
    // Never twice, whatever happened.
    for (const [tick, count] of hits) expect(count, `tick ${new Date(tick).toISOString()}`).toBe(1);
    const first = Math.min(...hits.keys());
    const near = (tick: number) => killedAt.some((k) => Math.abs(k - tick) <= 1_500);
    const expected: number[] = [];
    for (let t = first; t <= end; t += 1_000) if (!near(t)) expected.push(t);
    // Every tick not within a second or so of a kill ran (one lost at a kill would be at most once).
    expect(expected.filter((t) => !hits.has(t)).map((t) => new Date(t).toISOString())).toEqual([]);
    expect(expected.filter((t) => t > after).length).toBeGreaterThanOrEqual(5);
    // The surviving replica counts the ticks it claimed in its Prometheus exposition.
    const exposition = await (await fetch(`${b.api}/metrics`)).text();
    const ok = exposition.match(/^edge_cron_ticks_total\{script="ticker",outcome="ok"\} (\d+)$/m);
    expect(Number(ok?.[1] ?? 0)).toBeGreaterThanOrEqual(5);
  });

  it("runs a scheduled event now on POST /v1/scripts/:name/scheduled, with the cron asked for", async () => {
    const res = await call(b, "POST", "/v1/scripts/ticker/scheduled", { cron: "*/5 * * * *" });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ script: "ticker", cron: "*/5 * * * *", outcome: "ok", error: null });
    expect(crons.has("*/5 * * * *")).toBe(true);
    const home = mkdtempSync(join(tmpdir(), "edge-cron-cli-"));
    const cli = await runCli(["trigger", "ticker", "--cron", "0 8 * * MON-FRI", "--json"], {
      env: { EDGE_API_URL: b.api, EDGE_API_TOKEN: TOKEN },
      home,
    });
    rmSync(home, { recursive: true, force: true });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ cron: "0 8 * * MON-FRI", outcome: "ok" });
    expect(crons.has("0 8 * * MON-FRI")).toBe(true);
  });
});
