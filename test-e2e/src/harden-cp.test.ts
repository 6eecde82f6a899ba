import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freshCacheDir } from "./harness/cache-dir.js";
import {
  api,
  type ControlPlane,
  eventually,
  hit,
  POPS,
  startControlPlane,
  startEdgeNode,
  startRouter,
  TOKEN,
  viaRouter,
} from "./harness/cluster.js";
import { AppProcess, CONTROL_PLANE_MAIN, EDGE_NODE_MAIN } from "./harness/process.js";

/**
 * Issue 12, control-plane side, with real processes: the secure default for
 * gRPC, per-node enrolment from the API to the agent, and the router through a
 * control-plane restart.
 */
const HELLO = 'export default { fetch() { return new Response("hello from the edge"); } };';
const procs: AppProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function controlPlane(env: Record<string, string>): AppProcess {
  const proc = new AppProcess("control-plane", CONTROL_PLANE_MAIN, {
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_STORE: "memory",
    EDGE_API_HOST: "127.0.0.1",
    EDGE_API_PORT: "0",
    EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    EDGE_NODE_TIMEOUT_MS: "3000",
    ...env,
  });
  procs.push(proc);
  return proc;
}

async function listening(proc: AppProcess): Promise<ControlPlane> {
  const ready = await proc.waitForLog((r) => r.msg === "control plane listening");
  return { proc, api: `http://127.0.0.1:${ready.httpPort}`, grpcPort: Number(ready.grpcPort) };
}

function edgeNode(pop: (typeof POPS)[number], grpcPort: number, env: Record<string, string>): AppProcess {
  const proc = new AppProcess(pop.pop, EDGE_NODE_MAIN, {
    EDGE_POP: pop.pop,
    EDGE_NODE_ID: `${pop.pop}-1`,
    EDGE_LAT: String(pop.lat),
    EDGE_LON: String(pop.lon),
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
    EDGE_CACHE_DIR: freshCacheDir(),
    EDGE_RECONNECT_MAX_MS: "500",
    ...env,
  });
  procs.push(proc);
  return proc;
}

describe("the secure default for node links", () => {
  it("refuses to start with gRPC bound beyond loopback and no enrolment, naming EDGE_NODE_ENROLMENT", async () => {
    const proc = controlPlane({ EDGE_GRPC_ADDRESS: "0.0.0.0:0" });
    expect(await proc.exited).not.toBe(0);
    const fatal = proc.records.find((r) => r.msg === "invalid configuration");
    expect(JSON.stringify(fatal)).toContain("EDGE_NODE_ENROLMENT");
    expect(proc.records.some((r) => r.msg === "control plane listening")).toBe(false);
  });

  it("serves an enrolled node, refuses its token for another node id, and cuts it off once revoked", async () => {
    const cp = await listening(controlPlane({ EDGE_NODE_ENROLMENT: "1" }));
    const enrolled = await api(
      cp,
      "POST",
      "/v1/nodes/enrolments",
      JSON.stringify({ nodeId: "fra-1", pop: "fra" }),
      "application/json",
    );
    expect(enrolled.status).toBe(201);
    const token = enrolled.json?.token as string;
    expect((await api(cp, "PUT", "/v1/scripts/hello", HELLO, "application/javascript")).status).toBe(201);

    const fra = POPS[0]!;
    const member = edgeNode(fra, cp.grpcPort, { EDGE_NODE_TOKEN: token });
    const ready = await member.waitForLog((r) => r.msg === "edge node listening");
    const base = `http://127.0.0.1:${ready.httpPort}`;
    await eventually(
      async () => (await hit({ proc: member, pop: "fra", base }, "hello")).status === 200,
      "fra-1 serving",
    );

    // The same token under another node id: refused, and never listed.
    const intruder = edgeNode(fra, cp.grpcPort, { EDGE_NODE_TOKEN: token, EDGE_NODE_ID: "fra-2" });
    await intruder.waitForLog((r) => r.msg?.startsWith("the control plane refused this node") === true);
    const listed = async () =>
      (((await api(cp, "GET", "/v1/nodes")).json?.nodes ?? []) as Array<{ id: string; status: string }>).map(
        (n) => `${n.id}:${n.status}`,
      );
    expect(await listed()).toEqual(["fra-1:healthy"]);

    expect((await api(cp, "DELETE", "/v1/nodes/enrolments/fra-1")).status).toBe(204);
    await member.waitForLog((r) => r.msg?.startsWith("the control plane refused this node") === true);
    await eventually(async () => (await listed()).join() === "fra-1:disconnected", "fra-1 disconnected");
  });
});

describe("the router through a control-plane restart", () => {
  it("keeps serving users from the PoP it knew while the restarted control plane's view settles", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-e2e-restart-"));
    dirs.push(dir);
    const store = `sqlite:${join(dir, "cp.db")}`;
    const first = await startControlPlane(store);
    procs.push(first.proc);
    expect((await api(first, "PUT", "/v1/scripts/hello", HELLO, "application/javascript")).status).toBe(201);
    const node = await startEdgeNode(POPS[0]!, first.grpcPort);
    procs.push(node.proc);
    const router = await startRouter(first);
    procs.push(router.proc);
    await eventually(
      async () => (await viaRouter(router, "hello")).status === 200,
      "the router serving hello",
    );

    // The control plane goes away: the router keeps its last good view.
    await first.proc.stop();
    for (let i = 0; i < 5; i++) expect((await viaRouter(router, "hello")).status).toBe(200);

    // It comes back on the same API port but where the node cannot reach it yet (another gRPC
    // port): its view lists fra-1 as disconnected and is not settled.
    const apiPort = new URL(first.api).port;
    const second = await listening(
      controlPlane({ EDGE_STORE: store, EDGE_API_PORT: apiPort, EDGE_NODE_SETTLE_MS: "600000" }),
    );
    const view = async () =>
      (await api(second, "GET", "/v1/nodes")).json as { nodes: Array<{ status: string }>; settled: boolean };
    expect((await view()).settled).toBe(false);
    // First empty, then what the previous process shared: fra-1, disconnected.
    await eventually(
      async () => (await view()).nodes.map((n) => n.status).join() === "disconnected",
      "fra-1 listed",
    );
    expect((await view()).settled).toBe(false);
    await router.proc.waitForLog((r) => r.msg === "control plane reachable again");
    // Several polls of the unsettled view later, users are still served.
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      statuses.push((await viaRouter(router, "hello")).status);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
