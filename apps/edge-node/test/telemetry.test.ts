import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricsReport, NodeMessage, RequestTrace, TailFilter } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

const CHATTY = `export default { async fetch(request) {
  const url = new URL(request.url);
  console.log("path", url.pathname);
  if (url.pathname === "/fail") throw new Error("broken at " + url.pathname);
  return new Response("ok " + url.pathname);
} }`;

const noFilter: TailFilter = { pops: [], methods: [], statuses: [], search: "", sampleRate: 0 };

const traces = (received: NodeMessage[]): Array<{ trace: RequestTrace; sessionIds: string[] }> =>
  received.flatMap((m) =>
    m.msg?.$case === "tail"
      ? m.msg.value.deliveries.flatMap((d) => (d.trace ? [{ trace: d.trace, sessionIds: d.sessionIds }] : []))
      : [],
  );

const reports = (received: NodeMessage[]): MetricsReport[] =>
  received.flatMap((m) => (m.msg?.$case === "metrics" ? [m.msg.value] : []));

describe("edge node telemetry against a scripted control plane", () => {
  let cp: ScriptedControlPlane;
  let node: EdgeNode;
  let base: string;
  let cacheDir: string;

  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-telemetry-"));
    cp = new ScriptedControlPlane();
    const grpcPort = await cp.listen();
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-tel",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
      EDGE_METRICS_INTERVAL_MS: "100",
      EDGE_TAIL_FLUSH_MS: "20",
      EDGE_CACHE_DIR: cacheDir,
    });
    node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
    base = `http://127.0.0.1:${(await node.start()).httpPort}`;
    await cp.waitFor((m) => m.msg?.$case === "hello");
    await cp.push({ configVersion: 1, full: true, upserts: [script("chatty", 2, CHATTY)], removals: [] });
  });

  afterEach(async () => {
    await node.stop();
    await cp.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const get = (path: string, method = "GET") => requestWithHost(base, "chatty.localhost", path, { method });

  it("ships console lines, exceptions and request summaries only while a session is open", async () => {
    await get("/before");
    cp.send({
      $case: "tailSessions",
      value: { sessions: [{ id: "t1", script: "chatty", filter: noFilter }] },
    });
    // The sessions message and the next request travel on different sockets; wait until the node has it.
    await eventually(async () => {
      await get("/probe");
      return traces(cp.received).length > 0;
    });
    await get("/hello", "POST");
    await get("/fail");
    await cp.waitFor(() => traces(cp.received).some((t) => t.trace.url.endsWith("/fail")));
    const seen = traces(cp.received).map((t) => t.trace);
    expect(seen.some((t) => t.url.endsWith("/before"))).toBe(false);
    const hello = seen.find((t) => t.url.endsWith("/hello"));
    expect(hello).toMatchObject({
      script: "chatty",
      version: 2,
      pop: "fra",
      nodeId: "fra-tel",
      method: "POST",
      status: 200,
      errorCode: "",
    });
    expect(hello?.logs.map((l) => [l.level, l.message])).toEqual([["log", "path /hello"]]);
    const fail = seen.find((t) => t.url.endsWith("/fail"));
    expect(fail).toMatchObject({ status: 500, errorCode: "EDGE_SCRIPT_ERROR" });
    expect(fail?.errorMessage).toContain("broken at /fail");

    cp.send({ $case: "tailSessions", value: { sessions: [] } });
    await eventually(async () => {
      const count = traces(cp.received).length;
      await get("/after-close");
      await new Promise((r) => setTimeout(r, 60));
      return traces(cp.received).length === count;
    });
    expect(traces(cp.received).some((t) => t.trace.url.endsWith("/after-close"))).toBe(false);
  });

  it("includes what ctx.waitUntil() work logs after the response, and counts the request once", async () => {
    const background = `export default { async fetch(request, env, ctx) {
      console.log("responding");
      ctx.waitUntil(request.text().then(() => console.log("background done")));
      return new Response("ok");
    } }`;
    await cp.push({ configVersion: 2, full: false, upserts: [script("bg", 1, background)], removals: [] });
    cp.send({ $case: "tailSessions", value: { sessions: [{ id: "t", script: "bg", filter: noFilter }] } });
    await eventually(async () => {
      await requestWithHost(base, "bg.localhost", "/probe");
      return traces(cp.received).length > 0;
    });
    await requestWithHost(base, "bg.localhost", "/later");
    await cp.waitFor(() => traces(cp.received).some((t) => t.trace.url.endsWith("/later")));
    const later = traces(cp.received).find((t) => t.trace.url.endsWith("/later"));
    expect(later?.trace.logs.map((l) => l.message)).toEqual(["responding", "background done"]);
    expect(later?.trace.status).toBe(200);
    const res = await requestWithHost(base, "127.0.0.1", "/metrics");
    const count = traces(cp.received).filter((t) => t.trace.script === "bg").length;
    expect(res.text).toContain(
      `edge_requests_total{script="bg",version="1",status_class="2xx",pop="fra"} ${count}`,
    );
  });

  it("applies a session's filter at the node", async () => {
    cp.send({
      $case: "tailSessions",
      value: { sessions: [{ id: "errors", script: "chatty", filter: { ...noFilter, statuses: ["5xx"] } }] },
    });
    await eventually(async () => {
      await get("/fail");
      return traces(cp.received).length > 0;
    });
    for (let i = 0; i < 3; i++) await get(`/fine-${i}`);
    await get("/fail");
    await cp.waitFor(() => traces(cp.received).length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(traces(cp.received).every((t) => t.trace.status === 500 && t.sessionIds[0] === "errors")).toBe(
      true,
    );
  });

  it("answers a log history query with requests served while nobody was tailing", async () => {
    await get("/one");
    await get("/fail");
    cp.send({
      $case: "logsQuery",
      value: { queryId: "q1", script: "chatty", sinceMs: 0, limit: 10, filter: undefined },
    });
    const reply = await cp.waitFor((m) => m.msg?.$case === "logsReply");
    if (reply.msg?.$case !== "logsReply") throw new Error("unreachable");
    expect(reply.msg.value.queryId).toBe("q1");
    expect(reply.msg.value.traces.map((t) => [new URL(t.url).pathname, t.status, t.errorCode])).toEqual([
      ["/one", 200, ""],
      ["/fail", 500, "EDGE_SCRIPT_ERROR"],
    ]);
  });

  it("serves Prometheus metrics on a host outside the zone", async () => {
    await get("/x");
    await get("/fail");
    const res = await requestWithHost(base, "127.0.0.1", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain(
      'edge_requests_total{script="chatty",version="2",status_class="2xx",pop="fra"} 1',
    );
    expect(res.text).toContain(
      'edge_request_errors_total{script="chatty",version="2",code="EDGE_SCRIPT_ERROR",pop="fra"} 1',
    );
    // The request that answered reports its isolate's start time and heap (the one that threw does not).
    expect(res.text).toContain('edge_isolate_start_seconds_count{script="chatty",version="2",pop="fra"} 1');
    expect(res.text).toContain('edge_isolate_memory_bytes_count{script="chatty",version="2",pop="fra"} 1');
  });

  it("sends unacknowledged reports again after a reconnect, and acknowledged ones never", async () => {
    await get("/counted");
    await cp.waitFor(() => reports(cp.received).some((r) => r.scripts.some((s) => s.requests > 0)));
    const first = reports(cp.received);
    const reporterId = first[0]?.reporterId ?? "";
    const counted = first.find((r) => r.scripts.some((s) => s.requests > 0));
    // Acknowledge everything before the report with the request; that one stays pending.
    cp.send({ $case: "metricsAck", value: { reporterId, upToSequence: (counted?.sequence ?? 1) - 1 } });
    await new Promise((r) => setTimeout(r, 150));

    const port = cp.port;
    await cp.close();
    cp = new ScriptedControlPlane();
    await cp.listen(port);
    await cp.waitFor((m) => m.msg?.$case === "hello", 15_000);
    await cp.waitFor(() => reports(cp.received).length > 0);
    const resent = reports(cp.received);
    expect(resent[0]?.sequence).toBe(counted?.sequence);
    expect(resent[0]?.scripts).toEqual(counted?.scripts);
    expect(resent.every((r) => r.reporterId === reporterId)).toBe(true);
    expect(resent.some((r) => r.sequence < (counted?.sequence ?? 0))).toBe(false);
  });
});

async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
