import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { staticNodeView } from "../src/node-view/types.js";
import { createRouter, type Router } from "../src/router.js";
import { geo, node, send } from "./support.js";

const LIMIT = 1024;

/** Writes bytes on a raw socket and returns everything read until the server closes. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("error", reject);
  });
}

/**
 * A PoP that refuses an oversized upload the way a busy server does: it
 * answers 413 as soon as it sees the declared length (keep-alive, the body
 * unread), and that connection is dead from then on: whatever arrives on it
 * next is answered with a reset (the close racing the router's next use of
 * its pooled socket). Other requests are echoed.
 */
async function startStrictPop(): Promise<{ address: string; served: () => number; close(): Promise<void> }> {
  let served = 0;
  const dead = new WeakSet<object>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    if (dead.has(req.socket)) {
      req.socket.resetAndDestroy();
      return;
    }
    if (req.url === "/last") {
      // Answers, then treats the connection as closed: the router's pooled socket is now stale.
      dead.add(req.socket);
      res.writeHead(200, { "content-type": "text/plain", "x-edge-pop": "fra" });
      res.end("last");
      return;
    }
    if (Number(req.headers["content-length"] ?? 0) > LIMIT) {
      dead.add(req.socket);
      res.writeHead(413, { "content-type": "application/json", "x-edge-pop": "fra" });
      res.end('{"error":{"code":"EDGE_BODY_TOO_LARGE"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      served += 1;
      res.writeHead(200, { "content-type": "text/plain", "x-edge-pop": "fra" });
      res.end(`got ${Buffer.concat(chunks).length} bytes`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    served: () => served,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the router after a PoP refused an upload and reset the connection", () => {
  let pop: Awaited<ReturnType<typeof startStrictPop>>;
  let router: Router;
  let port: number;

  beforeEach(async () => {
    pop = await startStrictPop();
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "unused-admin-token",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
    });
    router = createRouter(config, {
      logger: pino({ level: "silent" }),
      view: staticNodeView([node("fra-1", "fra", "frankfurt", pop.address)]),
      geoSources: [],
    });
    ({ httpPort: port } = await router.start());
  });
  afterEach(async () => {
    await router.stop();
    await pop.close();
  });

  const headers = { host: `hello.localhost:${port}`, "x-edge-client-geo": geo("frankfurt") };

  it("passes the 413 on, then serves other users' POSTs and GETs without a 502", async () => {
    const big = await send(port, {
      method: "POST",
      headers: { ...headers, host: `hello.localhost:${port}` },
      body: "x".repeat(64 * 1024),
    });
    expect(big.status).toBe(413);
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      // Another oversized upload, then others' requests at once: none may land on the reset socket.
      const again = await send(port, { method: "POST", headers, body: "y".repeat(64 * 1024) });
      const others = await Promise.all([
        send(port, { method: "POST", headers, body: "small body" }),
        send(port, { method: "POST", headers, body: "another" }),
        send(port, { method: "GET", headers }),
      ]);
      statuses.push(again.status, ...others.map((r) => r.status));
    }
    expect(statuses.filter((s) => s !== 200 && s !== 413)).toEqual([]);
    expect(pop.served()).toBe(15);
  });

  it("sends a GET that met a stale kept-alive socket again on a new connection, to the same PoP", async () => {
    for (let round = 0; round < 5; round++) {
      expect((await send(port, { path: "/last", headers })).status).toBe(200);
      const next = await send(port, { path: "/page", headers });
      expect(next.status).toBe(200);
      expect(next.headers["x-edge-retried-from"]).toBeUndefined();
    }
    expect(pop.served()).toBe(5);
  });
});

describe("the router facing ambiguous or forged client headers", () => {
  let pop: Awaited<ReturnType<typeof startStrictPop>>;
  let router: Router;
  let port: number;

  beforeEach(async () => {
    pop = await startStrictPop();
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "unused-admin-token",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
    });
    router = createRouter(config, {
      logger: pino({ level: "silent" }),
      view: staticNodeView([node("fra-1", "fra", "frankfurt", pop.address)]),
      geoSources: [],
    });
    ({ httpPort: port } = await router.start());
  });
  afterEach(async () => {
    await router.stop();
    await pop.close();
  });

  it("answers 400 EDGE_BAD_REQUEST to a request with two Host headers, and forwards nothing", async () => {
    const raw = await rawExchange(
      port,
      "GET / HTTP/1.1\r\nHost: hello.localhost\r\nHost: admin.localhost\r\nConnection: close\r\n\r\n",
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('"code":"EDGE_BAD_REQUEST"');
    expect(pop.served()).toBe(0);
  });
});
