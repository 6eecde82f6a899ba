import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

const BUSY = `export default { fetch() {
  let x = 0; const end = Date.now() + 300; while (Date.now() < end) x++;
  return new Response("done");
} }`;

describe("an edge node with every isolate slot taken and no queue", () => {
  let cp: ScriptedControlPlane;
  let node: EdgeNode;
  let base: string;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-node-overload-"));
    cp = new ScriptedControlPlane();
    const grpcPort = await cp.listen();
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
      EDGE_CACHE_DIR: cacheDir,
      EDGE_ISOLATE_THREADS: "0",
      EDGE_ISOLATE_CONCURRENCY: "1",
      EDGE_MAX_QUEUED_REQUESTS: "0",
    });
    expect(config.admission).toEqual({
      concurrency: 1,
      maxQueue: 0,
      perScript: 1,
      maxInFlightPerScript: 256,
    });
    node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
    const { httpPort } = await node.start();
    base = `http://127.0.0.1:${httpPort}`;
    await cp.waitFor((m) => m.msg?.$case === "hello");
    // A CPU limit above the busy loop, so the only failure left is the one under test.
    const busy = { ...script("busy", 1, BUSY), limits: { cpuMs: 1_000, memoryMb: 64, wallMs: 5_000 } };
    const ack = await cp.push({ configVersion: 1, full: true, upserts: [busy], removals: [] });
    expect(ack).toMatchObject({ errors: [] });
  });

  afterAll(async () => {
    await node.stop();
    await cp.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("answers a request that cannot get in with 503 EDGE_OVERLOADED and retry-after, and serves the admitted one", async () => {
    const [a, b] = await Promise.all([
      requestWithHost(base, "busy.localhost", "/"),
      requestWithHost(base, "busy.localhost", "/"),
    ]);
    const byStatus = [a, b].sort((x, y) => x.status - y.status);
    expect(byStatus.map((r) => r.status)).toEqual([200, 503]);
    expect(byStatus[0]!.text).toBe("done");
    expect(byStatus[1]!.headers["retry-after"]).toBe("1");
    expect(JSON.parse(byStatus[1]!.text)).toMatchObject({ error: { code: "EDGE_OVERLOADED" } });
    // The node is not hurt: the next request gets in.
    expect((await requestWithHost(base, "busy.localhost", "/")).status).toBe(200);
  });
});
