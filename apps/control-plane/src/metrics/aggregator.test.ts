import {
  type ControlMessage,
  CPU_BOUNDS_MS,
  LATENCY_BOUNDS_MS,
  type MetricsReport,
  type ScriptMetrics,
} from "@edge/protocol";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeLink } from "../push/telemetry-hooks.js";
import { createMetricsAggregator, type MetricsAggregator } from "./aggregator.js";
import type { MetricsRow } from "./figures.js";
import { LatencyHistogram } from "./histogram.js";
import { createSqliteMetricsStore } from "./store/sqlite.js";
import type { MetricsStore } from "./store/types.js";

const T0 = 1_700_000_040_000; // a minute boundary

/** Buckets over LATENCY_BOUNDS_MS (+ overflow) with `count` requests in the bucket whose upper bound is `boundMs`. */
function bucketsAt(entries: Array<[boundMs: number, count: number]>, bounds = LATENCY_BOUNDS_MS): number[] {
  const buckets = new Array<number>(bounds.length + 1).fill(0);
  for (const [bound, count] of entries) {
    const index = Number.isFinite(bound) ? bounds.indexOf(bound) : bounds.length;
    if (index < 0) throw new Error(`${bound} is not a bucket bound`);
    buckets[index] = (buckets[index] ?? 0) + count;
  }
  return buckets;
}

function entry(fields: Partial<ScriptMetrics> & { script: string }): ScriptMetrics {
  return {
    version: 1,
    requests: 0,
    errors: 0,
    cpuMsTotal: 0,
    latencyBuckets: [],
    latencyMsTotal: 0,
    statusClasses: {},
    errorsByCode: {},
    cpuBuckets: [],
    isolateStarts: 0,
    isolateStartMsTotal: 0,
    memorySamples: 0,
    memoryBytesTotal: 0,
    ...fields,
  };
}

function report(scripts: ScriptMetrics[], fields: Partial<MetricsReport> = {}): MetricsReport {
  return {
    windowStartMs: T0,
    windowEndMs: T0 + 10_000,
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
    scripts,
    reporterId: "",
    sequence: 0,
    cpuBoundsMs: [...CPU_BOUNDS_MS],
    node: undefined,
    ...fields,
  };
}

/** A node's end of a stream: what the aggregator sends it is kept. */
function link(id: string, pop: string): NodeLink & { sent: ControlMessage["msg"][] } {
  const sent: ControlMessage["msg"][] = [];
  return {
    id,
    pop,
    sent,
    send: (msg) => {
      sent.push(msg);
      return true;
    },
  };
}

/** A real SQLite metrics store that can be told to fail, as a store outage would. */
function faultyStore(): MetricsStore & { failing: boolean } {
  const inner = createSqliteMetricsStore(":memory:");
  return {
    failing: false,
    addRows(rows: readonly MetricsRow[]) {
      return this.failing ? Promise.reject(new Error("store down")) : inner.addRows(rows);
    },
    readRows: (q) => inner.readRows(q),
    prune: (before) => inner.prune(before),
    close: () => inner.close(),
  };
}

describe("LatencyHistogram", () => {
  it("interpolates a quantile linearly inside the bucket that holds it", () => {
    const histogram = new LatencyHistogram(LATENCY_BOUNDS_MS);
    histogram.add(LATENCY_BOUNDS_MS, bucketsAt([[10, 4]]));
    // (7.5, 10]: the median (rank 2 of 4) sits halfway through the bucket.
    expect(histogram.quantile(0.5)).toBe(8.75);
    expect(histogram.quantile(1)).toBe(10);
  });

  it("treats the first bucket as starting at 0 and reports the overflow bucket as the last bound", () => {
    const histogram = new LatencyHistogram(LATENCY_BOUNDS_MS);
    histogram.add(
      LATENCY_BOUNDS_MS,
      bucketsAt([
        [0.5, 1],
        [Number.POSITIVE_INFINITY, 1],
      ]),
    );
    expect(histogram.quantile(0.25)).toBe(0.25);
    expect(histogram.quantile(0.99)).toBe(30_000);
  });

  it("answers 0 when it holds no data", () => {
    expect(new LatencyHistogram(LATENCY_BOUNDS_MS).quantile(0.5)).toBe(0);
  });

  it("maps buckets reported over other bounds onto the first of its own bounds that covers them", () => {
    const histogram = new LatencyHistogram(LATENCY_BOUNDS_MS);
    histogram.add([4, 60, 100_000], [1, 2, 3, 4]);
    expect(histogram.counts[LATENCY_BOUNDS_MS.indexOf(5)]).toBe(1);
    expect(histogram.counts[LATENCY_BOUNDS_MS.indexOf(75)]).toBe(2);
    expect(histogram.counts[LATENCY_BOUNDS_MS.length]).toBe(7);
    expect(histogram.total).toBe(10);
  });
});

describe("createMetricsAggregator", () => {
  let metrics: MetricsAggregator;
  let store: ReturnType<typeof faultyStore>;
  let clock = T0 + 30_000;

  const make = () => {
    store = faultyStore();
    clock = T0 + 30_000;
    metrics = createMetricsAggregator({
      store,
      logger: pino({ level: "silent" }),
      flushMs: 60_000,
      retentionMs: 24 * 3_600_000,
      now: () => clock,
    });
    return metrics;
  };

  afterEach(async () => {
    await metrics.close();
    await store.close();
  });

  it("sums reports across nodes and versions into totals, p50/p90/p99, per-version and per-node shares", async () => {
    make();
    const fra = link("fra-1", "fra");
    metrics.record(
      fra,
      report([
        entry({
          script: "api",
          requests: 3,
          errors: 1,
          cpuMsTotal: 1.5,
          latencyBuckets: bucketsAt([[5, 3]]),
          cpuBuckets: bucketsAt([[0.5, 3]], CPU_BOUNDS_MS),
          statusClasses: { "2xx": 2, "5xx": 1 },
          errorsByCode: { EDGE_CPU_LIMIT: 1 },
        }),
      ]),
    );
    metrics.record(
      link("iad-1", "iad"),
      report([
        entry({
          script: "api",
          version: 2,
          requests: 1,
          cpuMsTotal: 0.5,
          latencyBuckets: bucketsAt([[5, 1]]),
        }),
      ]),
    );
    const view = await metrics.query({ script: "api", since: T0, until: T0 + 60_000 });
    expect(view.scripts).toHaveLength(1);
    const api = view.scripts[0]!;
    expect(api).toMatchObject({
      script: "api",
      requests: 4,
      errors: 1,
      cpuMsTotal: 2,
      latencyMs: { p50: 4, p90: 4.8, p99: 4.98 },
      statusClasses: { "2xx": 2, "5xx": 1 },
      errorsByCode: { EDGE_CPU_LIMIT: 1 },
      isolateStartMsAvg: null,
    });
    expect(api.versions.map((v) => [v.version, v.requests])).toEqual([
      [2, 1],
      [1, 3],
    ]);
    expect(api.nodes).toEqual([
      { nodeId: "fra-1", pop: "fra", requests: 3, errors: 1, cpuMsTotal: 1.5, latencyMs: expect.any(Object) },
      { nodeId: "iad-1", pop: "iad", requests: 1, errors: 0, cpuMsTotal: 0.5, latencyMs: expect.any(Object) },
    ]);
    expect(api.series).toEqual([expect.objectContaining({ time: new Date(T0).toISOString(), requests: 4 })]);
    // Only fra: the PoP filter applies to the figures and to the series.
    const fraOnly = await metrics.query({ script: "api", pop: "fra", since: T0, until: T0 + 60_000 });
    expect(fraOnly.scripts[0]).toMatchObject({
      requests: 3,
      nodes: [expect.objectContaining({ pop: "fra" })],
    });
  });

  it("files reports under the minute they ended in and returns one series point per minute", async () => {
    make();
    const node = link("fra-1", "fra");
    clock = T0 + 3 * 60_000;
    for (const minute of [0, 1, 1, 2]) {
      metrics.record(
        node,
        report([entry({ script: "api", requests: 2, latencyBuckets: bucketsAt([[1, 2]]) })], {
          windowEndMs: T0 + minute * 60_000 + 5_000,
        }),
      );
    }
    await metrics.flush();
    const view = await metrics.query({ script: "api", since: T0 + 60_000, until: clock });
    expect(view.scripts[0]?.series.map((p) => [p.time, p.requests])).toEqual([
      [new Date(T0 + 60_000).toISOString(), 4],
      [new Date(T0 + 120_000).toISOString(), 2],
    ]);
    expect(view.scripts[0]?.requests).toBe(6);
  });

  it("counts a re-sent report once, and acknowledges reports only once they are stored", async () => {
    make();
    const first = link("fra-1", "fra");
    const counted = report([entry({ script: "api", requests: 5 })], { reporterId: "r1", sequence: 1 });
    metrics.record(first, counted);
    expect(first.sent).toEqual([]);
    await metrics.flush();
    expect(first.sent).toEqual([{ $case: "metricsAck", value: { reporterId: "r1", upToSequence: 1 } }]);

    // The ACK was lost with the stream: the node sends report 1 again on its next stream, then report 2.
    const second = link("fra-1", "fra");
    metrics.record(second, counted);
    metrics.record(
      second,
      report([entry({ script: "api", requests: 1 })], { reporterId: "r1", sequence: 2 }),
    );
    expect(second.sent).toEqual([{ $case: "metricsAck", value: { reporterId: "r1", upToSequence: 1 } }]);
    await metrics.flush();
    expect(second.sent.at(-1)).toEqual({ $case: "metricsAck", value: { reporterId: "r1", upToSequence: 2 } });
    const view = await metrics.query({ script: "api", since: T0, until: T0 + 60_000 });
    expect(view.scripts[0]?.requests).toBe(6);

    // A restarted node numbers from 1 again under a new reporter id: counted.
    metrics.record(
      second,
      report([entry({ script: "api", requests: 2 })], { reporterId: "r2", sequence: 1 }),
    );
    expect((await metrics.query({ script: "api", since: T0, until: T0 + 60_000 })).scripts[0]?.requests).toBe(
      8,
    );
  });

  it("keeps figures through a store outage and acknowledges them after the store is back", async () => {
    make();
    const node = link("fra-1", "fra");
    metrics.record(node, report([entry({ script: "api", requests: 2 })], { reporterId: "r1", sequence: 1 }));
    store.failing = true;
    expect(await metrics.flush()).toBe(false);
    metrics.record(node, report([entry({ script: "api", requests: 3 })], { reporterId: "r1", sequence: 2 }));
    expect(await metrics.flush()).toBe(false);
    expect(node.sent).toEqual([]);
    expect(metrics.pendingRows).toBe(1);
    expect(metrics.flushFailures).toBe(2);
    // Still visible meanwhile, from what is pending here.
    expect((await metrics.query({ script: "api", since: T0, until: T0 + 60_000 })).scripts[0]?.requests).toBe(
      5,
    );

    store.failing = false;
    expect(await metrics.flush()).toBe(true);
    expect(node.sent).toEqual([{ $case: "metricsAck", value: { reporterId: "r1", upToSequence: 2 } }]);
    expect(metrics.pendingRows).toBe(0);
    const stored = await store.readRows({ since: T0, until: T0 + 60_000 });
    expect(stored.map((r) => r.requests)).toEqual([5]);
    expect((await metrics.query({ script: "api", since: T0, until: T0 + 60_000 })).scripts[0]?.requests).toBe(
      5,
    );
  });

  it("keeps running totals per script version and PoP, and each node's latest node-wide figures", () => {
    make();
    const node = link("fra-1", "fra");
    const stats = {
      inFlight: 3,
      isolatesCreated: 4,
      eventLoopLagP99Ms: 1.5,
      eventLoopLagMaxMs: 9,
      cpuLoad: 0.25,
      rssBytes: 1000,
      heapUsedBytes: 500,
    };
    metrics.record(node, report([entry({ script: "api", requests: 4 })], { node: stats }));
    metrics.record(
      node,
      report([entry({ script: "api", requests: 1 })], { node: { ...stats, isolatesCreated: 1 } }),
    );
    expect([...metrics.lifetime()].map((e) => [e.script, e.version, e.pop, e.requests])).toEqual([
      ["api", 1, "fra", 5],
    ]);
    expect([...metrics.nodes()]).toEqual([
      expect.objectContaining({
        nodeId: "fra-1",
        pop: "fra",
        isolatesCreated: 5,
        stats: expect.objectContaining({ inFlight: 3 }),
      }),
    ]);
  });

  it("ignores figures that are not finite and positive, and error codes that are not codes", async () => {
    make();
    metrics.record(
      link("n", "p"),
      report([
        entry({
          script: "api",
          requests: 1,
          errors: -3,
          cpuMsTotal: Number.NaN,
          errorsByCode: { "bad code": 1, EDGE_X: 1 },
        }),
      ]),
    );
    const view = await metrics.query({ since: T0, until: T0 + 60_000 });
    expect(view.scripts[0]).toMatchObject({
      requests: 1,
      errors: 0,
      cpuMsTotal: 0,
      errorsByCode: { EDGE_X: 1 },
    });
    expect((await metrics.query({ script: "nope", since: T0, until: T0 + 60_000 })).scripts).toEqual([]);
  });
});
