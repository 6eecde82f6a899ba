import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIsolateRunner } from "@edge/isolate-host";
import type { ConfigPush, Script } from "@edge/protocol";
import { pino } from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigCache } from "../src/cache/config-cache.js";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { ScriptRegistry } from "../src/script-registry.js";
import { requestWithHost } from "../src/testing/index.js";

const logger = pino({ level: "silent" });

/** A small script that says which one it is, as a wire script with its real digest. */
function cachedScript(name: string, source = helloSource(name)): Script {
  return {
    name,
    version: 1,
    sha256: createHash("sha256").update(source).digest("hex"),
    source,
    vars: {},
    limits: { cpuMs: 1_000, memoryMb: 64, wallMs: 10_000 },
    createdAtMs: 1_700_000_000_000,
    canary: undefined,
    mainModule: "",
    modules: [],
    kvBindings: {},
  };
}

function helloSource(name: string): string {
  return `export default { fetch: () => new Response(${JSON.stringify(`hello from ${name}`)}) }`;
}

/** An address on loopback nothing listens on: the control plane is down for the whole test. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

describe("lazy preparation on the edge node", () => {
  let cacheDir: string;
  const nodes: EdgeNode[] = [];

  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-lazy-"));
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  async function startNode(scripts: Script[], env: Record<string, string> = {}) {
    await new ConfigCache(cacheDir, logger).save({ configVersion: 7, scripts, rejected: {} });
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-lazy",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: await deadAddress(),
      EDGE_CACHE_DIR: cacheDir,
      EDGE_RECONNECT_MAX_MS: "500",
      EDGE_ISOLATE_THREADS: "1",
      EDGE_WARM_ISOLATES: "1",
      ...env,
    });
    const edge = createEdgeNode(config, { logger });
    nodes.push(edge);
    const { httpPort } = await edge.start();
    const base = `http://127.0.0.1:${httpPort}`;
    return { edge, get: (name: string) => requestWithHost(base, `${name}.localhost`, "/") };
  }

  it("starts from a cache of 3,000 scripts without preparing any, and serves the ones asked for", async () => {
    const scripts = Array.from({ length: 3_000 }, (_, i) => cachedScript(`app-${i}`));
    const node = await startNode(scripts);
    expect(node.edge.registry.configVersion).toBe(7);
    expect(Object.keys(node.edge.registry.heldReleases())).toHaveLength(3_000);
    expect(node.edge.registry.preparedCount).toBe(0);

    const first = await node.get("app-2999");
    expect(first.status).toBe(200);
    expect(first.text).toBe("hello from app-2999");
    expect((await node.get("app-0")).text).toBe("hello from app-0");
    expect(node.edge.registry.preparedCount).toBe(2);
  }, 120_000);

  it("prepares a cold script once for concurrent first requests, and keeps it prepared for the next", async () => {
    const node = await startNode([cachedScript("cold"), cachedScript("other")]);
    const answers = await Promise.all(Array.from({ length: 5 }, () => node.get("cold")));
    expect(answers.map((a) => [a.status, a.text])).toEqual(
      Array.from({ length: 5 }, () => [200, "hello from cold"]),
    );
    expect(node.edge.registry.preparedCount).toBe(1);
    expect((await node.get("cold")).text).toBe("hello from cold");
    expect(node.edge.registry.preparedCount).toBe(1);
  }, 60_000);

  it("keeps at most EDGE_PREPARED_SCRIPTS_MAX versions prepared, dropping the least recently used, which still answers", async () => {
    const node = await startNode(
      ["a", "b", "c"].map((name) => cachedScript(name)),
      {
        EDGE_PREPARED_SCRIPTS_MAX: "2",
      },
    );
    for (const name of ["a", "b", "c"]) expect((await node.get(name)).text).toBe(`hello from ${name}`);
    expect(node.edge.registry.preparedCount).toBe(2);
    expect(node.edge.registry.get("a")?.isPrepared).toBe(false);
    expect(node.edge.registry.get("c")?.isPrepared).toBe(true);
    expect((await node.get("a")).text).toBe("hello from a");
    expect(node.edge.registry.get("a")?.isPrepared).toBe(true);
    expect(node.edge.registry.get("b")?.isPrepared).toBe(false);
  }, 60_000);

  it("answers a cached script that no longer compiles with its compile error, request after request, and serves the rest", async () => {
    const node = await startNode([cachedScript("broken", "export default {"), cachedScript("fine")]);
    for (let i = 0; i < 2; i++) {
      const answer = await node.get("broken");
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.text).error.code).toBe("EDGE_COMPILE_ERROR");
    }
    expect((await node.get("fine")).text).toBe("hello from fine");
  }, 60_000);
});

describe("prepared versions across pushes", () => {
  const runner = createIsolateRunner({ warmIsolates: 0 });
  afterAll(() => runner.dispose());
  const push = (configVersion: number, upserts: Script[], removals: string[] = []): ConfigPush =>
    ({ configVersion, full: false, upserts, removals, nonce: `n${configVersion}` }) as ConfigPush;

  it("keeps a pushed version prepared, and lets go of the versions a push replaces or removes", async () => {
    const registry = new ScriptRegistry(runner, logger);
    expect(await registry.apply(push(1, [cachedScript("a"), cachedScript("b")]))).toEqual([]);
    expect(registry.get("a")?.isPrepared).toBe(true);
    expect(registry.preparedCount).toBe(2);

    const next = { ...cachedScript("a", helloSource("a, again")), version: 2 };
    expect(await registry.apply(push(2, [next], ["b"]))).toEqual([]);
    expect(registry.get("a")?.version).toBe(2);
    expect(registry.get("b")).toBeUndefined();
    expect(registry.preparedCount).toBe(1);
  });

  it("still NACKs a pushed version that does not compile, and keeps serving the one before", async () => {
    const registry = new ScriptRegistry(runner, logger);
    await registry.apply(push(1, [cachedScript("a")]));
    const broken = { ...cachedScript("a", "export default {"), version: 2 };
    const errors = await registry.apply(push(2, [broken]));
    expect(errors.map((e) => [e.name, e.version])).toEqual([["a", 2]]);
    expect(registry.get("a")?.version).toBe(1);
    expect(registry.rejectedReleases()).toEqual({ a: "2" });
  });
});
