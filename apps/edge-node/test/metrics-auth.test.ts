import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";

const TOKEN = "metrics-token-0123456789";

describe("an edge node with EDGE_METRICS_TOKEN", () => {
  let node: EdgeNode;
  let base: string;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-node-metrics-auth-"));
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_HTTP_PORT: "0",
      // Nothing listens there: this test needs no control plane.
      EDGE_CONTROL_PLANE: "127.0.0.1:9",
      EDGE_CACHE_DIR: cacheDir,
      EDGE_ISOLATE_THREADS: "0",
      EDGE_METRICS_TOKEN: TOKEN,
    });
    node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
    base = `http://127.0.0.1:${(await node.start()).httpPort}`;
  });

  afterAll(async () => {
    await node.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("answers GET /metrics without the token, or with another, 401 EDGE_UNAUTHORIZED", async () => {
    for (const headers of [{}, { authorization: "Bearer not-the-token-at-all" }]) {
      const res = await requestWithHost(base, "127.0.0.1", "/metrics", { headers });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: "EDGE_UNAUTHORIZED" } });
    }
  });

  it("serves GET /metrics to a scrape with the bearer token, and /healthz to anyone", async () => {
    const res = await requestWithHost(base, "127.0.0.1", "/metrics", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain("edge_in_flight_requests");
    expect((await requestWithHost(base, "127.0.0.1", "/healthz")).status).toBe(200);
  });

  it("refuses a token shorter than 16 characters at start-up", () => {
    expect(() =>
      loadConfig({ EDGE_POP: "fra", EDGE_METRICS_TOKEN: "short", EDGE_CACHE_DIR: cacheDir }),
    ).toThrow(/EDGE_METRICS_TOKEN/);
  });
});
