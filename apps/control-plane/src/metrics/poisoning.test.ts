import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS, type MetricsReport, type ScriptMetrics } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  eventually,
  startTestControlPlane,
  type TestControlPlane,
  type TestNode,
} from "../grpc/test-node.js";
import { createMetricsAggregator, type MetricsAggregator } from "./aggregator.js";
import { REPORT_BOUNDS } from "./plausible.js";
import { createControlPlaneRegistry } from "./prometheus.js";
import { createSqliteMetricsStore } from "./store/sqlite.js";
import type { MetricsStore } from "./store/types.js";

function entry(script: string, requests: number, fields: Partial<ScriptMetrics> = {}): ScriptMetrics {
  const latencyBuckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencyBuckets[3] = requests;
  return {
    script,
    version: 1,
    requests,
    errors: 0,
    cpuMsTotal: requests,
    latencyMsTotal: requests * 3,
    latencyBuckets,
    cpuBuckets: [],
    statusClasses: { "2xx": requests },
    errorsByCode: {},
    isolateStarts: 0,
    isolateStartMsTotal: 0,
    memorySamples: 0,
    memoryBytesTotal: 0,
    kvOps: {},
    ...fields,
  };
}

let sequence = 0;
function report(scripts: ScriptMetrics[], node?: MetricsReport["node"]): MetricsReport {
  const now = Date.now();
  return {
    windowStartMs: now - 1_000,
    windowEndMs: now,
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
    cpuBoundsMs: [...CPU_BOUNDS_MS],
    reporterId: "rogue",
    sequence: ++sequence,
    node,
    scripts,
  };
}

/** A node stream sending hostile metrics reports to a real control plane (gRPC socket, real aggregator). */
describe("metrics from a hostile node stream", () => {
  let cp: TestControlPlane;
  let store: MetricsStore;
  let metrics: MetricsAggregator;
  let node: TestNode;
  let scrape: () => Promise<string>;

  beforeEach(async () => {
    store = createSqliteMetricsStore(":memory:");
    let live: () => ReadonlySet<string> | null = () => null;
    metrics = createMetricsAggregator({
      store,
      logger: pino({ level: "silent" }),
      flushMs: 60_000,
      retentionMs: 3_600_000,
      liveScripts: () => live(),
    });
    cp = await startTestControlPlane({ telemetry: { metrics: (n, r) => metrics.record(n, r) } });
    live = () => cp.server.hub.liveScripts();
    const registry = createControlPlaneRegistry({
      metrics,
      nodes: () => cp.server.hub.nodes(),
      tail: { sessionCount: 0, droppedTotal: 0 },
    });
    scrape = () => registry.metrics();
    await cp.deploy("hello");
    node = cp.node();
    node.hello("fra-1", { pop: "fra" });
    await node.push(1);
  });

  afterEach(async () => {
    await cp.close();
    await metrics.close();
    await store.close();
  });

  const sumRequests = () => [...metrics.lifetime()].reduce((n, e) => n + e.requests, 0);

  it("drops made-up script names, NUL bytes and absurd counts, keeping the live script's real figures", async () => {
    const made = Array.from({ length: 2_000 }, (_, i) => entry(`made-up-${i}`, 1));
    node.send({ $case: "metrics", value: report(made) });
    node.send({
      $case: "metrics",
      value: report([
        entry("hello\u0000x", 1),
        entry("hello", 9e15),
        entry("hello", 5, { errors: 6 }),
        entry("hello", 5, { cpuMsTotal: Number.POSITIVE_INFINITY, latencyMsTotal: 1e300 }),
        entry("hello", 5, { statusClasses: { "2xx": 500 } }),
        entry("hello", 7),
      ]),
    });
    await eventually(() => metrics.droppedEntries >= 2_005, "every bad entry dropped");
    await eventually(() => sumRequests() === 7, "the real entry");

    expect([...metrics.lifetime()].map((e) => [e.script, e.version, e.pop, e.requests])).toEqual([
      ["hello", 1, "fra", 7],
    ]);
    const text = await scrape();
    expect(text).not.toContain("made-up");
    expect(text).not.toContain("\u0000");
    expect(text).toMatch(/edge_requests_total\{[^}]*script="hello"[^}]*\} 7/);
    expect(text).toMatch(/edge_metrics_dropped_entries_total 200[5-9]/);
  });

  it("clamps node-wide figures: no infinite CPU load, no NaN lag, no absurd RSS", async () => {
    node.send({
      $case: "metrics",
      value: report([], {
        inFlight: 3,
        isolatesCreated: 9e15,
        eventLoopLagP99Ms: Number.NaN,
        eventLoopLagMaxMs: Number.POSITIVE_INFINITY,
        cpuLoad: Number.POSITIVE_INFINITY,
        rssBytes: Number.MAX_SAFE_INTEGER,
        heapUsedBytes: 0,
      }),
    });
    await eventually(() => [...metrics.nodes()].length === 1, "the node's figures");
    const [totals] = [...metrics.nodes()];
    expect(totals?.stats).toMatchObject({
      inFlight: 3,
      eventLoopLagP99Ms: 0,
      eventLoopLagMaxMs: 0,
      cpuLoad: 0,
    });
    expect(totals?.isolatesCreated).toBe(REPORT_BOUNDS.maxCount);
    expect(totals?.stats.rssBytes).toBeLessThanOrEqual(2 ** 50);
    const text = await scrape();
    expect(text).not.toMatch(/Inf|NaN/);
  });

  it("keeps at most a few versions of a script, and prunes a deleted script's totals and series", async () => {
    node.send({
      $case: "metrics",
      value: report(Array.from({ length: 100 }, (_, i) => entry("hello", 1, { version: i + 1 }))),
    });
    await eventually(() => [...metrics.lifetime()].some((e) => e.version === 100), "the reports");
    const versions = [...metrics.lifetime()].map((e) => e.version).sort((a, b) => a - b);
    expect(versions).toHaveLength(REPORT_BOUNDS.maxVersionsPerScript);
    expect(versions[0]).toBe(100 - REPORT_BOUNDS.maxVersionsPerScript + 1);

    expect(await cp.store.deleteScript("hello")).toBe(true);
    cp.server.hub.notifyChanged();
    await eventually(() => cp.server.hub.liveScripts()?.has("hello") === false, "the hub to see the delete");
    await metrics.flush();
    expect([...metrics.lifetime()]).toEqual([]);
    expect(await scrape()).not.toContain('script="hello"');
  });

  it("keeps nothing of a flood of made-up scripts, and refuses an oversized report whole", async () => {
    for (let round = 0; round < 20; round++) {
      const made = Array.from({ length: REPORT_BOUNDS.maxScripts }, (_, i) =>
        entry(`flood-${round}-${i}`, 1),
      );
      node.send({ $case: "metrics", value: report(made) });
    }
    // One oversized report is refused whole.
    node.send({
      $case: "metrics",
      value: report(Array.from({ length: REPORT_BOUNDS.maxScripts + 1 }, () => entry("hello", 1))),
    });
    await eventually(() => metrics.droppedEntries >= 20 * REPORT_BOUNDS.maxScripts + 1, "the flood");
    expect([...metrics.lifetime()]).toEqual([]);
    expect(metrics.pendingRows).toBe(0);
  });
});
