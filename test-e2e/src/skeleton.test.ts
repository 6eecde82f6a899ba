import { startRedisServer } from "@edge/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  hit,
  POPS,
  startControlPlane,
  startEdgeNode,
} from "./harness/cluster.js";

const script = (text: string) =>
  `export default { async fetch(request, env) { return Response.json({ text: ${JSON.stringify(text)}, who: env.WHO ?? null }); } }`;

/**
 * The walking skeleton end to end: real Redis, a real control plane process,
 * three real edge-node processes, all on loopback.
 */
describe("deploy through the control plane and serve from three PoPs", () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let cp: ControlPlane;
  let nodes: EdgeNodeProc[] = [];

  beforeAll(async () => {
    redis = await startRedisServer({ appendonly: true });
    cp = await startControlPlane(redis.url);
    nodes = await Promise.all(POPS.map((p) => startEdgeNode(p, cp.grpcPort)));
    await eventually(async () => {
      const { json } = await api(cp, "GET", "/v1/nodes");
      const list = (json?.nodes ?? []) as Array<{ status: string }>;
      return list.filter((n) => n.status === "healthy").length === POPS.length;
    }, "every node registered healthy");
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await cp?.proc.stop();
    await redis?.stop();
  });

  const allServe = (name: string, version: string) =>
    eventually(async () => {
      const answers = await Promise.all(nodes.map((n) => hit(n, name)));
      return answers.every((a) => a.status === 200 && a.version === version);
    }, `every PoP serves ${name} v${version}`);

  it("lists the three PoPs with their coordinates and HTTP addresses", async () => {
    const { status, json } = await api(cp, "GET", "/v1/nodes");
    expect(status).toBe(200);
    const list = json?.nodes as Array<{ pop: string; lat: number; httpAddress: string; status: string }>;
    expect(list.map((n) => n.pop).sort()).toEqual(["fra", "iad", "sin"]);
    for (const n of list) {
      const spec = POPS.find((p) => p.pop === n.pop);
      expect(n.lat).toBeCloseTo(spec?.lat ?? Number.NaN);
      expect(nodes.find((x) => x.pop === n.pop)?.base).toBe(`http://${n.httpAddress}`);
    }
  });

  it("deploys v1 and every PoP answers it, each with its own x-edge-pop", async () => {
    const put = await api(cp, "PUT", "/v1/scripts/hello", script("one"), "application/javascript");
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ name: "hello", version: 1 });
    await allServe("hello", "1");
    const answers = await Promise.all(nodes.map((n) => hit(n, "hello")));
    expect(answers.map((a) => a.pop).sort()).toEqual(["fra", "iad", "sin"]);
    expect(JSON.parse(answers[0]?.text ?? "")).toEqual({ text: "one", who: null });
  });

  it("deploys v2 with vars through the JSON envelope and every PoP switches", async () => {
    const envelope = JSON.stringify({ source: script("two"), vars: { WHO: "e2e" }, limits: { cpuMs: 40 } });
    const put = await api(cp, "PUT", "/v1/scripts/hello", envelope, "application/json");
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ version: 2 });
    await allServe("hello", "2");
    const answer = await hit(nodes[2] as EdgeNodeProc, "hello");
    expect(JSON.parse(answer.text)).toEqual({ text: "two", who: "e2e" });
    await eventually(async () => {
      const { json } = await api(cp, "GET", "/v1/scripts/hello");
      const rollout = (json?.rollout ?? []) as Array<{ version: number }>;
      return rollout.length === 3 && rollout.every((r) => r.version === 2);
    }, "rollout shows v2 on every PoP");
  });

  it("rejects a script that does not parse and keeps serving the active version", async () => {
    const put = await api(
      cp,
      "PUT",
      "/v1/scripts/hello",
      "export default { fetch( {",
      "application/javascript",
    );
    expect(put.status).toBe(400);
    expect(put.json).toMatchObject({ error: { code: "EDGE_INVALID_SCRIPT" } });
    const { json } = await api(cp, "GET", "/v1/scripts/hello");
    expect(json).toMatchObject({ version: 2 });
    expect((await hit(nodes[0] as EdgeNodeProc, "hello")).version).toBe("2");
  });

  it("rolls back to v1 and every PoP follows", async () => {
    const res = await api(
      cp,
      "POST",
      "/v1/scripts/hello/rollback",
      JSON.stringify({ version: 1 }),
      "application/json",
    );
    expect(res.status).toBe(200);
    await allServe("hello", "1");
  });

  it("reports the requests it served in the control plane's metrics", async () => {
    const before = await api(cp, "GET", "/v1/metrics?script=hello");
    const counted = (j: Record<string, unknown> | null) =>
      ((j?.scripts ?? []) as Array<{ script: string; requests: number }>).find((s) => s.script === "hello")
        ?.requests ?? 0;
    const start = counted(before.json);
    for (const n of nodes) for (let i = 0; i < 4; i++) await hit(n, "hello");
    await eventually(
      async () => counted((await api(cp, "GET", "/v1/metrics?script=hello")).json) >= start + 12,
      "metrics count the requests",
    );
  });

  it("keeps serving while the control plane restarts, and the restarted one still has the deploy", async () => {
    await cp.proc.stop("SIGKILL");
    const during = await Promise.all(nodes.map((n) => hit(n, "hello")));
    expect(during.every((a) => a.status === 200 && a.version === "1")).toBe(true);
    cp = await startControlPlane(redis.url, cp.grpcPort);
    const { json } = await api(cp, "GET", "/v1/scripts/hello");
    expect(json).toMatchObject({ name: "hello", version: 1, latestVersion: 2 });
    await eventually(
      async () => {
        const list = ((await api(cp, "GET", "/v1/nodes")).json?.nodes ?? []) as Array<{ status: string }>;
        return list.filter((n) => n.status === "healthy").length === 3;
      },
      "nodes reconnect to the restarted control plane",
      20_000,
    );
    const put = await api(cp, "PUT", "/v1/scripts/hello", script("three"), "application/javascript");
    expect(put.json).toMatchObject({ version: 3 });
    await allServe("hello", "3");
  });

  it("deletes the script and every PoP answers 404", async () => {
    const res = await api(cp, "DELETE", "/v1/scripts/hello");
    expect(res.status).toBe(204);
    await eventually(async () => {
      const answers = await Promise.all(nodes.map((n) => hit(n, "hello")));
      return answers.every(
        (a) => a.status === 404 && JSON.parse(a.text).error.code === "EDGE_SCRIPT_NOT_FOUND",
      );
    }, "404 everywhere");
    expect((await api(cp, "GET", "/v1/scripts/hello")).status).toBe(404);
  });
});
