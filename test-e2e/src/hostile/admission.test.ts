import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { availableParallelism } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../harness/cluster.js";
import { deploy, fetchFrom, type HostileCluster, startHostileCluster } from "./hostile-cluster.js";

/**
 * Issue 12, High 1: requests that only wait must not hold the node's
 * admission slots, and a client that goes away ends its run.
 */
describe("hostile tenant: waiting requests do not freeze a PoP", () => {
  let cluster: HostileCluster;
  let origin: Server;
  let originPort = 0;
  const originSeen: string[] = [];
  const originClosed: string[] = [];

  beforeAll(async () => {
    // A slow origin on loopback: it never answers, and records when a subrequest's socket closes.
    origin = createServer((req) => {
      originSeen.push(req.url ?? "");
      req.socket.once("close", () => originClosed.push(req.url ?? ""));
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    originPort = (origin.address() as { port: number }).port;
    cluster = await startHostileCluster({ EDGE_FETCH_ALLOW: `127.0.0.1:${originPort}` });
    await deploy(cluster, "neighbour", `export default { fetch: () => new Response("neighbour") }`);
    await deploy(
      cluster,
      "hang",
      `export default { async fetch() { await new Promise(() => {}); return new Response("never"); } }`,
      { limits: { cpuMs: 1_000, wallMs: 20_000 } },
    );
    await deploy(
      cluster,
      "sleeper",
      `export default { async fetch() { await new Promise((r) => setTimeout(r, 60_000)); return new Response("late"); } }`,
      { limits: { cpuMs: 1_000, wallMs: 8_000 } },
    );
    await deploy(
      cluster,
      "subrequester",
      `export default { async fetch(request) {
        const res = await fetch("http://127.0.0.1:${originPort}" + new URL(request.url).pathname);
        return new Response(await res.text());
      } }`,
      { limits: { cpuMs: 1_000, wallMs: 20_000 } },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    origin?.close();
  });

  it("answers a handler that awaits a promise nothing can settle with 500 EDGE_NO_RESPONSE at once", async () => {
    const res = await fetchFrom(cluster.node, "hang");
    expect(res.status).toBe(500);
    expect(res.code).toBe("EDGE_NO_RESPONSE");
  });

  it("keeps a neighbour script answering while 2 × cores + 2 requests of another script wait on timers", async () => {
    const waiting = Array.from({ length: 2 * availableParallelism() + 2 }, () =>
      fetchFrom(cluster.node, "sleeper"),
    );
    const hangs = Array.from({ length: 2 * availableParallelism() + 2 }, () =>
      fetchFrom(cluster.node, "hang"),
    );
    const answers: number[] = [];
    for (let i = 0; i < 10; i++) answers.push((await fetchFrom(cluster.node, "neighbour")).status);
    // The neighbour was answered while every sleeper still waited (they end at their 8 s wall limit).
    const sleepersDone = await Promise.race([Promise.all(waiting).then(() => true), Promise.resolve(false)]);
    expect(answers).toEqual(Array(10).fill(200));
    expect(sleepersDone).toBe(false);
    expect((await Promise.all(hangs)).map((r) => r.code)).toEqual(
      Array(hangs.length).fill("EDGE_NO_RESPONSE"),
    );
    expect((await Promise.all(waiting)).map((r) => r.code)).toEqual(
      Array(waiting.length).fill("EDGE_WALL_LIMIT"),
    );
  });

  it("cancels the run and its subrequest when the client disconnects", async () => {
    const socket = connect(Number(new URL(cluster.node.base).port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write("GET /cancel-me HTTP/1.1\r\nHost: subrequester.localhost\r\n\r\n");
    // The subrequest reached the origin (it never answers) ...
    await eventually(async () => originSeen.includes("/cancel-me"), "the subrequest started");
    socket.destroy();
    // ... and ends when the client goes, long before the 20 s wall limit.
    await eventually(async () => originClosed.includes("/cancel-me"), "the subrequest was aborted", 5_000);
  });
});
