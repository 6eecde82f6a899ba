import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

/**
 * The Cache API on a whole edge node: a script pushed over real gRPC, served
 * through the node's HTTP front on worker threads, caching a real loopback
 * origin's answers in the node's on-disk store, counted in its metrics and
 * still there after the node restarts.
 */

const CACHE_FIRST = (origin: string) => `export default { async fetch(request) {
  const hit = await caches.default.match(request);
  if (hit) return hit;
  const response = await fetch(${JSON.stringify(origin)} + new URL(request.url).pathname);
  await caches.default.put(request, response.clone());
  return response;
} };`;

describe("an edge node serving the Cache API", () => {
  let cp: ScriptedControlPlane;
  let origin: Server;
  let originUrl: string;
  let originHits = 0;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-node-cache-"));
    origin = createServer((_req, res) => {
      originHits += 1;
      res.writeHead(200, { "cache-control": "max-age=600", "content-type": "text/plain" });
      res.end(`origin answer #${originHits}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    cp = new ScriptedControlPlane();
    await cp.listen();
  });

  afterAll(async () => {
    await cp.close();
    await new Promise((resolve) => origin.close(resolve));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  async function startNode(): Promise<{ node: EdgeNode; base: string }> {
    const node = createEdgeNode(
      loadConfig({
        EDGE_POP: "fra",
        EDGE_NODE_ID: "fra-cache",
        EDGE_HTTP_PORT: "0",
        EDGE_CONTROL_PLANE: `127.0.0.1:${cp.port}`,
        EDGE_CACHE_DIR: cacheDir,
        EDGE_ISOLATE_THREADS: "1",
        EDGE_FETCH_ALLOW: originUrl.replace("http://", ""),
      }),
      { logger: pino({ level: "silent" }) },
    );
    const { httpPort } = await node.start();
    return { node, base: `http://127.0.0.1:${httpPort}` };
  }

  it("serves the second request from cache (HIT, origin reached once), counts it, and keeps it across a restart", async () => {
    const first = await startNode();
    await cp.waitFor((m) => m.msg?.$case === "hello");
    const ack = await cp.push({
      configVersion: 1,
      full: true,
      upserts: [
        {
          ...script("site", 1, CACHE_FIRST(originUrl)),
          limits: { cpuMs: 1000, memoryMb: 64, wallMs: 5_000 },
        },
      ],
      removals: [],
    });
    expect(ack).toMatchObject({ errors: [] });
    const miss = await requestWithHost(first.base, "site.localhost", "/page");
    const hit = await requestWithHost(first.base, "site.localhost", "/page");
    expect(miss).toMatchObject({ status: 200, text: "origin answer #1" });
    expect(miss.headers["cf-cache-status"]).toBeUndefined();
    expect(hit).toMatchObject({ status: 200, text: "origin answer #1" });
    expect(hit.headers["cf-cache-status"]).toBe("HIT");
    expect(originHits).toBe(1);
    const metrics = (await requestWithHost(first.base, "127.0.0.1", "/metrics")).text;
    expect(metrics).toMatch(/edge_cache_events_total\{[^}]*script="site"[^}]*event="hits"[^}]*\} 1/);
    expect(metrics).toMatch(/edge_cache_events_total\{[^}]*script="site"[^}]*event="misses"[^}]*\} 1/);
    expect(metrics).toMatch(/edge_cache_bytes\{[^}]*\} [1-9]/);
    await first.node.stop();

    const second = await startNode();
    try {
      const after = await requestWithHost(second.base, "site.localhost", "/page");
      expect(after).toMatchObject({ status: 200, text: "origin answer #1" });
      expect(after.headers["cf-cache-status"]).toBe("HIT");
      expect(originHits).toBe(1);
    } finally {
      await second.node.stop();
    }
  });
});
