import { LATENCY_BOUNDS_MS, type MetricsReport, type ScriptMetrics } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { createMetricsAggregator } from "./aggregator.js";
import { LatencyHistogram } from "./histogram.js";

/** Buckets over LATENCY_BOUNDS_MS (+ overflow) with `count` requests in the bucket whose upper bound is `boundMs`. */
function bucketsAt(entries: Array<[boundMs: number, count: number]>): number[] {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [bound, count] of entries) {
    const index = Number.isFinite(bound) ? LATENCY_BOUNDS_MS.indexOf(bound) : LATENCY_BOUNDS_MS.length;
    if (index < 0) throw new Error(`${bound} is not a bucket bound`);
    buckets[index] = (buckets[index] ?? 0) + count;
  }
  return buckets;
}

function report(
  scripts: Array<Partial<ScriptMetrics> & { script: string }>,
  bounds = LATENCY_BOUNDS_MS,
): MetricsReport {
  return {
    windowStartMs: 0,
    windowEndMs: 10_000,
    latencyBoundsMs: [...bounds],
    scripts: scripts.map((s) => ({
      version: 1,
      requests: 0,
      errors: 0,
      cpuMsTotal: 0,
      latencyBuckets: [],
      latencyMsTotal: 0,
      ...s,
    })),
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
  it("keeps running totals per script and per node across reports and versions", () => {
    const metrics = createMetricsAggregator();
    const fra = { id: "fra-1", pop: "fra" };
    metrics.record(
      fra,
      report([
        { script: "api", requests: 3, errors: 1, cpuMsTotal: 1.5, latencyBuckets: bucketsAt([[5, 3]]) },
      ]),
    );
    metrics.record(
      fra,
      report([
        { script: "api", version: 2, requests: 1, cpuMsTotal: 0.5, latencyBuckets: bucketsAt([[5, 1]]) },
      ]),
    );

    expect(metrics.view()).toEqual({
      scripts: [
        {
          script: "api",
          requests: 4,
          errors: 1,
          cpuMsTotal: 2,
          latencyMs: { p50: 4, p99: 4.98 },
          nodes: [
            {
              nodeId: "fra-1",
              pop: "fra",
              requests: 4,
              errors: 1,
              cpuMsTotal: 2,
              latencyMs: { p50: 4, p99: 4.98 },
            },
          ],
        },
      ],
    });
  });

  it("answers an unknown script with an empty list, and ignores counts that are not finite and positive", () => {
    const metrics = createMetricsAggregator();
    metrics.record({ id: "n", pop: "p" }, report([{ script: "api", requests: Number.NaN, errors: -3 }]));
    expect(metrics.view("nope")).toEqual({ scripts: [] });
    expect(metrics.view("api").scripts[0]).toMatchObject({ requests: 0, errors: 0 });
  });
});
