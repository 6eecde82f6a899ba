import { createServer, request, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy, fetchFrom, type HostileCluster, startHostileCluster } from "./hostile-cluster.js";

/**
 * Issue 12, Medium 5/6/7: scripts cannot reach the node's host or internal
 * networks by default, errors do not map ports, and fetch loops end.
 */
describe("hostile tenant: egress", () => {
  let cluster: HostileCluster;
  let relay: Server;
  let relayPort = 0;
  let relayed = 0;

  beforeAll(async () => {
    // Stands for DNS pointing a script's own hostname at its PoP: forwards every request to the node
    // as `loop.localhost`, headers included (as an origin or another CDN would).
    relay = createServer((req, res) => {
      relayed += 1;
      const upstream = request(
        cluster.node.base + (req.url ?? "/"),
        { method: req.method, headers: { ...req.headers, host: "loop.localhost" } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    relayPort = (relay.address() as { port: number }).port;
    // Only the relay is allowed: it is the operator's explicit exception.
    cluster = await startHostileCluster({ EDGE_FETCH_ALLOW: `127.0.0.1:${relayPort}` });
    const api = new URL(cluster.cp.api);
    const node = new URL(cluster.node.base);
    await deploy(
      cluster,
      "prober",
      `export default { async fetch() {
        const targets = [
          "http://127.0.0.1:${api.port}/v1/nodes", "http://127.0.0.1:${api.port}/metrics",
          "http://0.0.0.0:${cluster.cp.grpcPort}/", "http://0.0.0.0:${node.port}/", "http://[::]:${node.port}/",
          "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:${api.port}/",
          "http://[::ffff:a9fe:a9fe]/", "http://localhost:${api.port}/", "http://2130706433:${api.port}/",
          "http://10.0.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://127.0.0.1:1/",
        ];
        const out = {};
        for (const target of targets) {
          try { const res = await fetch(target); out[target] = "reached " + res.status; }
          catch (e) { out[target] = e.message.replace(/^Network connection to .* failed$/, "refused"); }
        }
        return Response.json(out);
      } }`,
      { limits: { cpuMs: 1_000, wallMs: 20_000 } },
    );
    await deploy(
      cluster,
      "loop",
      `export default { async fetch(request) {
        const res = await fetch("http://127.0.0.1:${relayPort}/again");
        return new Response(res.body, { status: res.status, headers: res.headers });
      } }`,
      { limits: { cpuMs: 1_000, wallMs: 20_000 } },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    relay?.close();
  });

  it("refuses loopback (control plane API, gRPC, its own front), 0.0.0.0, ::, metadata and private ranges, with one message", async () => {
    const res = await fetchFrom(cluster.node, "prober");
    const out = JSON.parse(res.text) as Record<string, string>;
    expect(Object.entries(out).filter(([, result]) => result !== "refused")).toEqual([]);
  });

  it("ends a script fetching its own hostname after 16 hops with 508 EDGE_LOOP_DETECTED", async () => {
    const before = relayed;
    const res = await fetchFrom(cluster.node, "loop");
    expect(res.status).toBe(508);
    expect(res.code).toBe("EDGE_LOOP_DETECTED");
    expect(relayed - before).toBeLessThanOrEqual(16);
  });
});
