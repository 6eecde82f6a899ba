import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerScriptVersionMetrics, type ScriptVersionFigures } from "./index.js";

const figures: ScriptVersionFigures = {
  statusClasses: { "2xx": 3, "5xx": 1 },
  errorsByCode: { EDGE_CPU_LIMIT: 1 },
  latencyBuckets: [1, 2, 1],
  latencyMsTotal: 40,
  cpuBuckets: [4, 0, 0],
  cpuMsTotal: 8,
  isolateStarts: 3,
  isolateStartMsTotal: 6,
  memorySamples: 0,
  memoryBytesTotal: 0,
};

describe("registerScriptVersionMetrics", () => {
  it("renders every per-version family from the figures, in seconds, leaving out families with no samples", async () => {
    const registry = new Registry();
    registerScriptVersionMetrics(registry, { latencyMs: [5, 50], cpuMs: [1, 10] }, () => [
      { labels: { script: "hello", version: 2 }, figures },
    ]);
    const text = await registry.metrics();
    expect(text).toContain('edge_requests_total{script="hello",version="2",status_class="5xx"} 1');
    expect(text).toContain('edge_request_errors_total{script="hello",version="2",code="EDGE_CPU_LIMIT"} 1');
    expect(text).toContain('edge_request_duration_seconds_bucket{script="hello",version="2",le="0.05"} 3');
    expect(text).toContain('edge_request_duration_seconds_sum{script="hello",version="2"} 0.04');
    expect(text).toContain('edge_isolate_cpu_seconds_bucket{script="hello",version="2",le="0.001"} 4');
    expect(text).toContain('edge_isolate_start_seconds_count{script="hello",version="2"} 3');
    expect(text).not.toContain('edge_isolate_memory_bytes_count{script="hello"');
  });
});
