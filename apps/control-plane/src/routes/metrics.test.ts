import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS, type MetricsReport } from "@edge/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeLink } from "../push/telemetry-hooks.js";
import { type Harness, startHarness } from "../test-harness.js";

let h: Harness;

afterEach(async () => {
  await h.close();
});

const MIN = 60_000;

function report(script: string, requests: number, windowEndMs: number, errors = 0): MetricsReport {
  const latencyBuckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencyBuckets[LATENCY_BOUNDS_MS.indexOf(10)] = requests;
  return {
    windowStartMs: windowEndMs - 5_000,
    windowEndMs,
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
    cpuBoundsMs: [...CPU_BOUNDS_MS],
    reporterId: "",
    sequence: 0,
    node: undefined,
    scripts: [
      {
        script,
        version: 1,
        requests,
        errors,
        cpuMsTotal: requests * 2,
        latencyMsTotal: requests * 9,
        latencyBuckets,
        cpuBuckets: [],
        statusClasses: { "2xx": requests - errors, ...(errors > 0 ? { "5xx": errors } : {}) },
        errorsByCode: errors > 0 ? { EDGE_SCRIPT_ERROR: errors } : {},
        isolateStarts: 0,
        isolateStartMsTotal: 0,
        memorySamples: 0,
        memoryBytesTotal: 0,
      },
    ],
  };
}

const node = (id: string, pop: string): NodeLink => ({ id, pop, send: () => true });

describe("GET /v1/metrics", () => {
  it("answers totals, quantiles, per-node shares and a per-minute series for every script", async () => {
    h = await startHarness();
    const now = Date.now();
    h.metrics.record(node("fra-1", "fra"), report("hello", 10, now - 2 * MIN, 1));
    h.metrics.record(node("iad-1", "iad"), report("hello", 4, now));
    h.metrics.record(node("iad-1", "iad"), report("other", 3, now));
    await h.metrics.flush();
    h.metrics.record(node("fra-1", "fra"), report("hello", 1, now));

    const res = await h.request({ method: "GET", url: "/v1/metrics" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.scripts.map((s: { script: string; requests: number }) => [s.script, s.requests])).toEqual([
      ["hello", 15],
      ["other", 3],
    ]);
    const hello = body.scripts[0];
    expect(hello).toMatchObject({
      errors: 1,
      cpuMsTotal: 30,
      latencyMs: { p50: 8.75, p90: 9.75, p99: 9.975 },
      statusClasses: { "2xx": 14, "5xx": 1 },
      errorsByCode: { EDGE_SCRIPT_ERROR: 1 },
    });
    expect(hello.nodes.map((n: { nodeId: string; requests: number }) => [n.nodeId, n.requests])).toEqual([
      ["fra-1", 11],
      ["iad-1", 4],
    ]);
    expect(hello.series.map((p: { requests: number }) => p.requests)).toEqual([10, 5]);
    expect(body.bucketSeconds).toBe(60);
  });

  it("narrows to one script, one PoP and a time window", async () => {
    h = await startHarness();
    const now = Date.now();
    h.metrics.record(node("fra-1", "fra"), report("hello", 10, now - 30 * MIN));
    h.metrics.record(node("fra-1", "fra"), report("hello", 2, now));
    h.metrics.record(node("iad-1", "iad"), report("hello", 4, now));
    h.metrics.record(node("iad-1", "iad"), report("other", 3, now));
    const res = await h.request({ method: "GET", url: "/v1/metrics?script=hello&pop=fra&since=10m" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.scripts).toHaveLength(1);
    expect(body.scripts[0]).toMatchObject({ script: "hello", requests: 2, nodes: [{ nodeId: "fra-1" }] });
    const wide = await h.request({
      method: "GET",
      url: `/v1/metrics?script=hello&since=${new Date(now - 40 * MIN).toISOString()}&until=${now}`,
    });
    expect(wide.json().scripts[0].requests).toBe(16);
  });

  it("answers 400 EDGE_INVALID_QUERY for a bad script name, PoP or time", async () => {
    h = await startHarness();
    for (const query of ["script=Bad_Name", "pop=FRA!", "since=yesterday", "since=1h&until=2h"]) {
      const res = await h.request({ method: "GET", url: `/v1/metrics?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_QUERY");
    }
  });
});

describe("GET /metrics (Prometheus)", () => {
  it("exposes the fleet's figures with pop, script and version labels, without a token", async () => {
    h = await startHarness();
    h.metrics.record(node("fra-1", "fra"), report("hello", 3, Date.now(), 1));
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain(
      'edge_requests_total{pop="fra",script="hello",version="1",status_class="2xx"} 2',
    );
    expect(res.body).toContain(
      'edge_request_errors_total{pop="fra",script="hello",version="1",code="EDGE_SCRIPT_ERROR"} 1',
    );
    expect(res.body).toContain('edge_request_duration_seconds_count{pop="fra",script="hello",version="1"} 3');
    expect(res.body).toContain('edge_nodes{status="healthy"} 0');
  });

  it("with EDGE_METRICS_TOKEN, answers 401 EDGE_UNAUTHORIZED to a scrape without it, even one with the admin token", async () => {
    const token = "metrics-token-0123456789";
    h = await startHarness({ env: { EDGE_METRICS_TOKEN: token } });
    const refused = [
      await h.app.inject({ method: "GET", url: "/metrics" }),
      await h.request({ method: "GET", url: "/metrics" }),
    ];
    for (const res of refused) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: "EDGE_UNAUTHORIZED" } });
    }
    const res = await h.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("edge_nodes");
  });
});
