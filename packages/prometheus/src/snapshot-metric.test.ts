import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { snapshotCounter, snapshotHistogram, snapshotSumCount } from "./index.js";

describe("snapshot metrics", () => {
  it("renders the caller's totals at scrape time: counters, cumulative histogram buckets, sum/count", async () => {
    const registry = new Registry();
    let requests = 1;
    snapshotCounter(registry, "edge_test_requests_total", "requests", () => [
      { labels: { script: "hello" }, value: requests },
    ]);
    snapshotHistogram(registry, "edge_test_latency_seconds", "latency", () => [
      { labels: { script: "hello" }, bounds: [0.01, 0.1], counts: [2, 3, 1], sum: 0.5 },
    ]);
    snapshotSumCount(registry, "edge_test_start_seconds", "start", () => [
      { labels: { script: "hello" }, sum: 0.25, count: 5 },
    ]);
    requests = 7;
    const text = await registry.metrics();
    expect(text).toContain("# TYPE edge_test_requests_total counter");
    expect(text).toContain('edge_test_requests_total{script="hello"} 7');
    expect(text).toContain('edge_test_latency_seconds_bucket{script="hello",le="0.01"} 2');
    expect(text).toContain('edge_test_latency_seconds_bucket{script="hello",le="0.1"} 5');
    expect(text).toContain('edge_test_latency_seconds_bucket{script="hello",le="+Inf"} 6');
    expect(text).toContain('edge_test_latency_seconds_count{script="hello"} 6');
    expect(text).toContain('edge_test_start_seconds_sum{script="hello"} 0.25');
    expect(text).toContain('edge_test_start_seconds_count{script="hello"} 5');
  });
});
