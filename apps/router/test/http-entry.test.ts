import { request } from "node:http";
import { cidrTableFromJson } from "@edge/routing";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { staticNodeView } from "../src/node-view/types.js";
import { createRouter, type Router } from "../src/router.js";
import { type FakePop, geo, node, refusedPort, send, startFakePop } from "./support.js";

const logger = pino({ level: "silent" });
// The operator's table: 203.0.113.0/24 is in Singapore; nothing covers 127.0.0.1 (the test client).
const cidr = cidrTableFromJson([{ cidr: "203.0.113.0/24", lat: 1.29, lon: 103.85, label: "SG office" }]);

async function startRouter(env: Record<string, string>, view: ReturnType<typeof staticNodeView>) {
  const config = loadConfig({
    EDGE_ADMIN_TOKEN: "unused",
    EDGE_ROUTER_PORT: "0",
    EDGE_DNS_PORT: "0",
    EDGE_DEFAULT_POP: "fra",
    ...env,
  });
  const router = createRouter(config, { logger, view, geoSources: [cidr] });
  const { httpPort } = await router.start();
  return { router, port: httpPort };
}

describe("the router's HTTP entry", () => {
  let pops: Record<"fra" | "iad" | "sin", FakePop>;
  let view: ReturnType<typeof staticNodeView>;
  let router: Router;
  let port: number;

  const host = () => ({ host: `hello.localhost:${port}` });
  const healthyCluster = () => [
    node("fra-1", "fra", "frankfurt", pops.fra.address),
    node("iad-1", "iad", "virginia", pops.iad.address),
    node("sin-1", "sin", "singapore", pops.sin.address),
  ];

  beforeAll(async () => {
    const [fra, iad, sin] = await Promise.all(["fra", "iad", "sin"].map((p) => startFakePop(p)));
    pops = { fra: fra!, iad: iad!, sin: sin! };
    view = staticNodeView([]);
    ({ router, port } = await startRouter({ EDGE_ROUTER_TRUSTED_PROXIES: "127.0.0.1" }, view));
  });

  afterAll(async () => {
    await router?.stop();
    await Promise.all(Object.values(pops ?? {}).map((p) => p.close()));
  });

  beforeEach(() => {
    view.nodes = healthyCluster();
    for (const pop of Object.values(pops)) pop.seen.length = 0;
  });

  it("sends clients in Frankfurt, Virginia and Singapore each to their own PoP", async () => {
    for (const [city, pop] of [
      ["frankfurt", "fra"],
      ["virginia", "iad"],
      ["singapore", "sin"],
    ] as const) {
      const res = await send(port, { headers: { ...host(), "x-edge-client-geo": geo(city) } });
      expect(res.status).toBe(201);
      expect(res.headers["x-edge-routed-to"]).toBe(pop);
      expect(res.headers["x-edge-pop"]).toBe(pop);
      expect(res.headers["x-edge-client-location"]).toBe("header");
    }
  });

  it("proxies method, path, query, headers and body, and adds forwarding headers", async () => {
    const res = await send(port, {
      method: "PUT",
      path: "/items/7?full=1",
      headers: {
        ...host(),
        "x-edge-client-geo": "1.35,103.8",
        "x-custom": "kept",
        "content-type": "text/plain",
      },
      body: "payload ✓",
    });
    expect(res.status).toBe(201);
    const echoed = JSON.parse(res.body);
    expect(echoed).toMatchObject({ pop: "sin", method: "PUT", url: "/items/7?full=1", body: "payload ✓" });
    expect(echoed.headers).toMatchObject({
      host: `hello.localhost:${port}`,
      "x-custom": "kept",
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-proto": "http",
    });
    // Repeated response fields stay separate.
    expect(res.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
  });

  it("streams the response to the client before the PoP has finished it", async () => {
    const reader = await new Promise<{ first: string; rest: Promise<string> }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        path: "/stream",
        headers: { ...host(), "x-edge-client-geo": geo("virginia") },
      });
      req.on("response", (res) => {
        res.setEncoding("utf8");
        res.once("data", (first: string) => {
          let rest = "";
          res.on("data", (c: string) => {
            rest += c;
          });
          resolve({ first, rest: new Promise((done) => res.on("end", () => done(rest))) });
        });
      });
      req.on("error", reject);
      req.end();
    });
    // The PoP is still holding the rest back: the first chunk came through on its own.
    expect(reader.first).toBe("first\n");
    pops.iad.release();
    expect(await reader.rest).toBe("second\n");
  });

  it("streams the request body to the PoP as it is sent", async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/echo-stream",
        headers: { ...host(), "x-edge-client-geo": geo("frankfurt"), "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.setEncoding("utf8");
        let all = "";
        res.on("data", (c: string) => {
          all += c;
          // Only once the first half has made the round trip is the second half sent.
          if (all === "half one|") req.end("half two");
        });
        res.on("end", () => resolve(all));
      });
      req.on("error", reject);
      req.write("half one|");
    });
    expect(echoed).toBe("half one|half two");
  });

  it("redirects with 307 to the chosen PoP in ?redirect mode, without proxying", async () => {
    const res = await send(port, {
      path: "/docs?redirect&lang=en",
      headers: { ...host(), "x-edge-client-geo": geo("singapore") },
    });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`http://hello.localhost:${pops.sin.port}/docs?lang=en`);
    expect(res.headers["x-edge-routed-to"]).toBe("sin");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(pops.sin.seen).toHaveLength(0);
  });

  it("locates a client from X-Forwarded-For set by a trusted proxy, through the operator's CIDR table", async () => {
    const res = await send(port, { headers: { ...host(), "x-forwarded-for": "198.51.100.1, 203.0.113.50" } });
    expect(res.headers["x-edge-routed-to"]).toBe("sin");
    expect(res.headers["x-edge-client-location"]).toBe("cidr");
    // The PoP gets the client as located, not the chain (whose left part the client could forge).
    expect(JSON.parse(res.body).headers["x-forwarded-for"]).toBe("203.0.113.50");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const strict = await startRouter({ EDGE_ROUTER_TRUSTED_PROXIES: "10.0.0.0/8" }, view);
    try {
      const res = await send(strict.port, {
        headers: { host: "hello.localhost", "x-forwarded-for": "203.0.113.50" },
      });
      expect(res.headers["x-edge-routed-to"]).toBe("fra");
      expect(res.headers["x-edge-route-note"]).toBe("no geo data for 127.0.0.1");
      // Overwritten, so the client cannot pick its side of a rollout (PoPs hash the first entry).
      expect(JSON.parse(res.body).headers["x-forwarded-for"]).toBe("127.0.0.1");
    } finally {
      await strict.router.stop();
    }
  });

  it("serves a malformed geo header from the default PoP and says why in a header", async () => {
    const res = await send(port, { headers: { ...host(), "x-edge-client-geo": "north pole" } });
    expect(res.status).toBe(201);
    expect(res.headers["x-edge-routed-to"]).toBe("fra");
    expect(res.headers["x-edge-client-location"]).toBe("unknown");
    expect(res.headers["x-edge-route-note"]).toBe(
      'x-edge-client-geo ignored: expected "<lat>,<lon>" in decimal degrees, got "north pole"; no geo data for 127.0.0.1',
    );
  });

  it("skips a disconnected PoP: the Singapore client goes to the next nearest", async () => {
    view.nodes = healthyCluster().map((n) =>
      n.pop === "sin" ? { ...n, status: "disconnected" as const } : n,
    );
    const res = await send(port, { headers: { ...host(), "x-edge-client-geo": geo("singapore") } });
    expect(res.headers["x-edge-routed-to"]).toBe("fra");
    expect(res.headers["x-edge-retried-from"]).toBeUndefined();
  });

  it("retries once on the next nearest when the chosen PoP refuses the connection, body included", async () => {
    const dead = await refusedPort();
    view.nodes = healthyCluster().map((n) =>
      n.pop === "sin" ? { ...n, httpAddress: `127.0.0.1:${dead}` } : n,
    );
    const res = await send(port, {
      method: "POST",
      headers: { ...host(), "x-edge-client-geo": geo("singapore") },
      body: "keep me",
    });
    expect(res.status).toBe(201);
    expect(res.headers["x-edge-routed-to"]).toBe("fra");
    expect(res.headers["x-edge-retried-from"]).toBe("sin");
    expect(JSON.parse(res.body)).toMatchObject({ pop: "fra", method: "POST", body: "keep me" });
  });

  it("holds a PoP that refused down, so the next request goes straight to the next nearest", async () => {
    const dead = await refusedPort();
    view.nodes = healthyCluster().map((n) =>
      n.pop === "sin" ? { ...n, httpAddress: `127.0.0.1:${dead}` } : n,
    );
    const headers = { ...host(), "x-edge-client-geo": geo("singapore") };
    expect((await send(port, { headers })).headers["x-edge-retried-from"]).toBe("sin");
    const next = await send(port, { headers });
    expect(next.status).toBe(201);
    expect(next.headers["x-edge-routed-to"]).toBe("fra");
    expect(next.headers["x-edge-retried-from"]).toBeUndefined();
    expect(next.headers["x-edge-route-note"]).toBe("sin-1 (sin) held down: could not be reached");
  });

  it("answers 502 EDGE_UPSTREAM_UNREACHABLE when the next nearest refuses too", async () => {
    const [a, b] = [await refusedPort(), await refusedPort()];
    view.nodes = [
      node("sin-1", "sin", "singapore", `127.0.0.1:${a}`),
      node("fra-1", "fra", "frankfurt", `127.0.0.1:${b}`),
      node("iad-1", "iad", "virginia", pops.iad.address),
    ];
    const res = await send(port, { headers: { ...host(), "x-edge-client-geo": geo("singapore") } });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: "EDGE_UPSTREAM_UNREACHABLE",
        message: expect.stringContaining("could not be reached, nor sin"),
      },
    });
    // Only one retry: the third PoP was not tried.
    expect(pops.iad.seen).toHaveLength(0);
  });

  it("answers 503 EDGE_NO_HEALTHY_NODE for an empty cluster or one with no healthy node", async () => {
    view.nodes = [];
    const empty = await send(port, { headers: host() });
    expect(empty.status).toBe(503);
    expect(JSON.parse(empty.body)).toEqual({
      error: { code: "EDGE_NO_HEALTHY_NODE", message: expect.stringContaining("no node is known") },
    });
    view.nodes = healthyCluster().map((n) => ({ ...n, status: "unhealthy" as const }));
    const down = await send(port, { method: "POST", headers: host(), body: "x" });
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).error.message).toContain("no healthy node among 3 known");
  });

  it("refuses hosts outside the zone with 404 EDGE_UNKNOWN_HOST and answers /healthz for itself", async () => {
    const other = await send(port, { headers: { host: "example.com" } });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.body).error.code).toBe("EDGE_UNKNOWN_HOST");
    const deeper = await send(port, { headers: { host: "a.b.localhost" } });
    expect(deeper.status).toBe(404);
    const health = await send(port, { path: "/healthz", headers: { host: `127.0.0.1:${port}` } });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok", nodes: 3, healthy: 3, lastError: null });
  });
});
