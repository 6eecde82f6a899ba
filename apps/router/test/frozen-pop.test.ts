import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { staticNodeView } from "../src/node-view/types.js";
import { createRouter, type Router } from "../src/router.js";
import { type FakePop, type FrozenPop, geo, node, send, startFakePop, startFrozenPop } from "./support.js";

const logger = pino({ level: "silent" });
const RESPONSE_TIMEOUT_MS = 300;

describe("the router facing a frozen PoP (accepts connections, never answers)", () => {
  // Singapore is frozen; Frankfurt (further from a Singapore client) is healthy.
  let frozen: FrozenPop;
  let fra: FakePop;
  let view: ReturnType<typeof staticNodeView>;
  let router: Router;
  let port: number;

  const fromSingapore = () => ({ host: `hello.localhost:${port}`, "x-edge-client-geo": geo("singapore") });
  const heldDown = async () =>
    JSON.parse((await send(port, { path: "/healthz", headers: { host: `127.0.0.1:${port}` } })).body)
      .heldDown as Array<{ key: string; reason: string }>;

  beforeEach(async () => {
    frozen = await startFrozenPop("127.0.0.2");
    fra = await startFakePop("fra", "127.0.0.3");
    view = staticNodeView([
      node("sin-1", "sin", "singapore", frozen.address),
      node("fra-1", "fra", "frankfurt", fra.address),
    ]);
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "unused",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
      EDGE_ROUTER_CONNECT_TIMEOUT_MS: "300",
      EDGE_ROUTER_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS),
    });
    router = createRouter(config, { logger, view, geoSources: [] });
    ({ httpPort: port } = await router.start());
  });

  afterEach(async () => {
    await router?.stop();
    await Promise.all([frozen?.close(), fra?.close()]);
  });

  it("serves a GET from the next nearest PoP once the nearest has not answered in time", async () => {
    const res = await send(port, { path: "/page", headers: fromSingapore() });
    expect(res.status).toBe(201);
    expect(res.headers["x-edge-routed-to"]).toBe("fra");
    expect(res.headers["x-edge-retried-from"]).toBe("sin");
    expect(JSON.parse(res.body)).toMatchObject({ pop: "fra", method: "GET", url: "/page" });
    // The request did reach the frozen PoP first: it was given up on, not skipped.
    expect(frozen.connections()).toBeGreaterThanOrEqual(1);
  });

  it("sends the requests that follow straight to the next nearest while the frozen PoP is held down", async () => {
    await send(port, { headers: fromSingapore() });
    const next = await send(port, { method: "POST", headers: fromSingapore(), body: "second" });
    // Not retried: the frozen PoP was not tried at all, so even a POST goes through.
    expect(next.status).toBe(201);
    expect(next.headers["x-edge-routed-to"]).toBe("fra");
    expect(next.headers["x-edge-retried-from"]).toBeUndefined();
    expect(next.headers["x-edge-route-note"]).toBe(
      `sin-1 (sin) held down: did not answer within ${RESPONSE_TIMEOUT_MS} ms`,
    );
    expect(JSON.parse(next.body)).toMatchObject({ pop: "fra", method: "POST", body: "second" });
    expect(await heldDown()).toEqual([
      expect.objectContaining({ key: `sin-1@${frozen.address}`, reason: expect.stringContaining("300 ms") }),
    ]);
  });

  it("answers 504 EDGE_UPSTREAM_TIMEOUT to a POST whose body the frozen PoP took, without sending it elsewhere", async () => {
    const res = await send(port, {
      method: "POST",
      path: "/orders",
      headers: fromSingapore(),
      body: "order #1",
    });
    expect(res.status).toBe(504);
    expect(res.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: "EDGE_UPSTREAM_TIMEOUT",
        message: `The PoP sin (${frozen.address}) did not answer within ${RESPONSE_TIMEOUT_MS} ms; not retried: its body was already sent to that PoP`,
      },
    });
    expect(fra.seen).toHaveLength(0);
  });

  it("answers 504 to a large upload that stalls because the frozen PoP stopped reading it", async () => {
    // Far more than the loopback socket buffers hold: the PoP's side fills up and the upload stalls.
    const res = await send(port, {
      method: "PUT",
      headers: fromSingapore(),
      body: "x".repeat(32 * 1024 * 1024),
    });
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body).error.code).toBe("EDGE_UPSTREAM_TIMEOUT");
    expect(fra.seen).toHaveLength(0);
  });

  it("answers 504 to a GET when the frozen PoP is the only one, and keeps trying it rather than answer 503", async () => {
    view.nodes = [node("sin-1", "sin", "singapore", frozen.address)];
    const first = await send(port, { headers: fromSingapore() });
    expect(first.status).toBe(504);
    expect(JSON.parse(first.body).error.code).toBe("EDGE_UPSTREAM_TIMEOUT");
    // Held down, but the only node: tried anyway.
    const second = await send(port, { headers: fromSingapore() });
    expect(second.status).toBe(504);
    expect(JSON.parse(second.body).error.code).toBe("EDGE_UPSTREAM_TIMEOUT");
  });

  it("does not count a slow client upload against the PoP", async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        method: "POST",
        headers: {
          ...fromSingapore(),
          "x-edge-client-geo": geo("frankfurt"),
          "transfer-encoding": "chunked",
        },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("part one|");
      // The client pauses for longer than the response timeout before it finishes its body.
      sleep(RESPONSE_TIMEOUT_MS * 2).then(() => req.end("part two"));
    });
    expect(reply.status).toBe(201);
    expect(JSON.parse(reply.body)).toMatchObject({ pop: "fra", body: "part one|part two" });
  });
});

describe("the router facing a live PoP whose response is only slow", () => {
  let sin: FakePop;
  let fra: FakePop;
  let router: Router;
  let port: number;

  beforeEach(async () => {
    [sin, fra] = await Promise.all([startFakePop("sin", "127.0.0.2"), startFakePop("fra", "127.0.0.3")]);
    const view = staticNodeView([
      node("sin-1", "sin", "singapore", sin.address),
      node("fra-1", "fra", "frankfurt", fra.address),
    ]);
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "unused",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
      EDGE_ROUTER_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS),
    });
    router = createRouter(config, { logger, view, geoSources: [] });
    ({ httpPort: port } = await router.start());
  });

  afterEach(async () => {
    await router?.stop();
    await Promise.all([sin?.close(), fra?.close()]);
  });

  it("gives up on the slow request but keeps the PoP in rotation, since it still answers its health check", async () => {
    const headers = { host: `hello.localhost:${port}`, "x-edge-client-geo": geo("singapore") };
    const slow = await send(port, { method: "POST", path: "/hold", headers, body: "slow" });
    expect(slow.status).toBe(504);
    expect(JSON.parse(slow.body).error.code).toBe("EDGE_UPSTREAM_TIMEOUT");
    // Wait (bounded by the test timeout) for the health check to lift the hold.
    for (;;) {
      const health = await send(port, { path: "/healthz", headers: { host: `127.0.0.1:${port}` } });
      if (JSON.parse(health.body).heldDown.length === 0) break;
      await sleep(20);
    }
    const next = await send(port, { headers });
    expect(next.status).toBe(201);
    expect(next.headers["x-edge-routed-to"]).toBe("sin");
    expect(next.headers["x-edge-route-note"]).toBeUndefined();
    expect(sin.seen.map((r) => r.url)).toContain("/healthz");
  });
});
