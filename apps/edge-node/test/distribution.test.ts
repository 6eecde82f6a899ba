import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Script } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";
import { canaryBucket } from "../src/traffic-split.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

const logger = pino({ level: "silent" });
const text = (body: string) => `export default { fetch() { return new Response(${JSON.stringify(body)}); } }`;

/** A wire script with a canary riding in it. */
function withCanary(stable: Script, canary: Script, percent: number): Script {
  return { ...stable, canary: { script: canary, percent } };
}

describe("config distribution on the edge node", () => {
  let cacheDir: string;
  const nodes: EdgeNode[] = [];
  const planes: ScriptedControlPlane[] = [];

  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-distribution-"));
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
    for (const cp of planes.splice(0)) await cp.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  async function controlPlane(port = 0): Promise<ScriptedControlPlane> {
    const cp = new ScriptedControlPlane();
    planes.push(cp);
    await cp.listen(port);
    return cp;
  }

  async function node(controlPlanes: string, env: Record<string, string> = {}) {
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-test",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: controlPlanes,
      EDGE_CACHE_DIR: cacheDir,
      EDGE_RECONNECT_MAX_MS: "500",
      ...env,
    });
    const edge = createEdgeNode(config, { logger });
    nodes.push(edge);
    const { httpPort } = await edge.start();
    const base = `http://127.0.0.1:${httpPort}`;
    return {
      edge,
      get: (name: string, client?: string) =>
        requestWithHost(
          base,
          `${name}.localhost`,
          "/",
          client ? { headers: { "x-forwarded-for": client } } : {},
        ),
    };
  }

  it("serves its cached config at once after a restart while the control plane is down, then says what it holds", async () => {
    const cp = await controlPlane();
    const first = await node(`127.0.0.1:${cp.port}`);
    await cp.waitFor((m) => m.msg?.$case === "hello");
    await cp.push({
      configVersion: 5,
      full: false,
      upserts: [script("hello", 3, text("cached v3")), script("other", 1, text("other"))],
      removals: [],
    });
    await first.edge.stop();
    nodes.splice(0);
    const port = cp.port;
    await cp.close();

    // Nothing listens at the control plane's address now.
    const restarted = await node(`127.0.0.1:${port}`);
    const answer = await restarted.get("hello");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe("cached v3");
    expect(answer.headers["x-edge-script-version"]).toBe("3");
    expect(restarted.edge.registry.configVersion).toBe(5);

    const back = await controlPlane(port);
    const hello = await back.waitFor((m) => m.msg?.$case === "hello", 15_000);
    expect(hello.msg?.value).toMatchObject({
      heldVersions: { hello: 3, other: 1 },
      heldReleases: { hello: "3", other: "1" },
    });
  });

  it("splits traffic deterministically by client during a canary, and a NACKed canary leaves the release as it was", async () => {
    const cp = await controlPlane();
    const edge = await node(`127.0.0.1:${cp.port}`);
    await cp.waitFor((m) => m.msg?.$case === "hello");
    const v1 = script("app", 1, text("v1"));
    const v2 = script("app", 2, text("v2"));
    const ack = await cp.push({
      configVersion: 1,
      full: false,
      upserts: [withCanary(v1, v2, 30)],
      removals: [],
    });
    expect(ack.errors).toEqual([]);

    const clients = Array.from({ length: 60 }, (_, i) => `198.51.100.${i}`);
    for (const client of clients) {
      const expected = canaryBucket("app", client) < 30 ? "v2" : "v1";
      expect((await edge.get("app", client)).text).toBe(expected);
      // Sticky: the same client sees the same version again.
      expect((await edge.get("app", client)).text).toBe(expected);
    }
    const onCanary = clients.filter((c) => canaryBucket("app", c) < 30).length;
    expect(onCanary).toBeGreaterThan(5);
    expect(onCanary).toBeLessThan(40);

    const broken = script("app", 3, "export default { fetch( {");
    const nack = await cp.push({
      configVersion: 2,
      full: false,
      upserts: [withCanary(v1, broken, 50)],
      removals: [],
    });
    expect(nack.errors).toMatchObject([{ name: "app", version: 3 }]);
    expect(edge.edge.registry.heldReleases()).toEqual({ app: "1+2@30" });
    expect(edge.edge.registry.rejectedReleases()).toEqual({ app: "1+3@50" });
  });

  it("tells a control plane after a restart which release it refused, from its cache", async () => {
    const cp = await controlPlane();
    const first = await node(`127.0.0.1:${cp.port}`);
    await cp.waitFor((m) => m.msg?.$case === "hello");
    await cp.push({ configVersion: 1, full: false, upserts: [script("app", 1, text("v1"))], removals: [] });
    await cp.push({
      configVersion: 2,
      full: false,
      upserts: [script("app", 2, "export default {")],
      removals: [],
    });
    await first.edge.stop();
    nodes.splice(0);

    const other = await controlPlane();
    await node(`127.0.0.1:${other.port}`);
    const hello = await other.waitFor((m) => m.msg?.$case === "hello");
    expect(hello.msg?.value).toMatchObject({ heldReleases: { app: "1" }, rejectedReleases: { app: "2" } });
  });

  it("fails over to the next control plane of EDGE_CONTROL_PLANE when its own goes away", async () => {
    const a = await controlPlane();
    const b = await controlPlane();
    const edge = await node(`127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    await a.waitFor((m) => m.msg?.$case === "hello");
    await a.push({
      configVersion: 1,
      full: false,
      upserts: [script("hello", 1, text("from a"))],
      removals: [],
    });
    await a.close();

    const hello = await b.waitFor((m) => m.msg?.$case === "hello", 10_000);
    expect(hello.msg?.value).toMatchObject({ heldReleases: { hello: "1" } });
    await b.push({
      configVersion: 2,
      full: false,
      upserts: [script("hello", 2, text("from b"))],
      removals: [],
    });
    expect((await edge.get("hello")).text).toBe("from b");
  });
});
