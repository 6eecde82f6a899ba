import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { MetricsCollector } from "../src/metrics/collector.js";
import { NodeStatsSampler } from "../src/metrics/node-stats.js";
import { createEdgeRegistry } from "../src/metrics/prometheus.js";
import { MetricsShipper } from "../src/metrics/shipper.js";
import type { RequestOutcome } from "../src/request-outcome.js";

function outcome(fields: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    script: "hello",
    version: 1,
    method: "GET",
    url: "http://hello.localhost/",
    status: 200,
    startedAt: 1_000,
    latencyMs: 1,
    cpuMs: 0.3,
    ranIsolate: true,
    errorCode: null,
    errorMessage: null,
    logs: [],
    isolateStartMs: null,
    memoryBytes: null,
    ...fields,
  };
}

describe("MetricsCollector", () => {
  it("counts requests, status classes, error codes, CPU and latency buckets per script version", () => {
    const collector = new MetricsCollector(0);
    collector.record(outcome({ latencyMs: 0.2, cpuMs: 0.1 }));
    collector.record(outcome({ latencyMs: 40, cpuMs: 60, status: 503, errorCode: "EDGE_CPU_LIMIT" }));
    collector.record(outcome({ status: 404 }));
    collector.record(outcome({ version: 2, latencyMs: 999_999, cpuMs: 1, status: 413, ranIsolate: false }));
    const window = collector.drain(5_000);
    expect(window).toMatchObject({ windowStartMs: 0, windowEndMs: 5_000, isolatesCreated: 3 });
    const v1 = window.scripts.find((s) => s.version === 1);
    expect(v1).toMatchObject({
      script: "hello",
      requests: 3,
      errors: 1,
      cpuMsTotal: 60.4,
      statusClasses: { "2xx": 1, "4xx": 1, "5xx": 1 },
      errorsByCode: { EDGE_CPU_LIMIT: 1 },
    });
    expect(v1?.latencyBuckets[0]).toBe(1);
    expect(v1?.latencyBuckets[LATENCY_BOUNDS_MS.indexOf(50)]).toBe(1);
    expect(v1?.cpuBuckets[CPU_BOUNDS_MS.indexOf(75)]).toBe(1);
    const v2 = window.scripts.find((s) => s.version === 2);
    expect(v2?.latencyBuckets[LATENCY_BOUNDS_MS.length]).toBe(1);
    expect(v2?.statusClasses).toEqual({ "4xx": 1 });
  });

  it("starts an empty window after a drain but keeps the totals since start-up", () => {
    const collector = new MetricsCollector(0);
    collector.record(outcome());
    collector.drain(1_000);
    collector.record(outcome());
    expect(collector.drain(2_000)).toMatchObject({ windowStartMs: 1_000, isolatesCreated: 1 });
    expect(collector.drain(3_000).scripts).toEqual([]);
    expect([...collector.lifetime()].map((m) => m.requests)).toEqual([2]);
    expect(collector.isolatesCreatedTotal).toBe(2);
  });
});

describe("MetricsShipper", () => {
  const setup = (maxUnacked = 32) => {
    const collector = new MetricsCollector(0);
    const shipper = new MetricsShipper(collector, new NodeStatsSampler(), () => 7, {
      maxUnacked,
      reporterId: "r1",
    });
    return { collector, shipper };
  };

  it("numbers reports, attaches node figures, and keeps each until it is acknowledged", () => {
    const { collector, shipper } = setup();
    collector.record(outcome());
    const first = shipper.next(1_000);
    const second = shipper.next(2_000);
    expect(first).toMatchObject({ reporterId: "r1", sequence: 1, node: { inFlight: 7, isolatesCreated: 1 } });
    expect(first?.cpuBoundsMs).toEqual(CPU_BOUNDS_MS);
    expect(second).toMatchObject({ sequence: 2, scripts: [] });
    expect(shipper.unacked().map((r) => r.sequence)).toEqual([1, 2]);
    shipper.ack({ reporterId: "someone-else", upToSequence: 2 });
    expect(shipper.unacked()).toHaveLength(2);
    shipper.ack({ reporterId: "r1", upToSequence: 1 });
    expect(shipper.unacked().map((r) => r.sequence)).toEqual([2]);
  });

  it("stops cutting reports while too many wait, and the next one carries everything since", () => {
    const { collector, shipper } = setup(2);
    collector.record(outcome());
    shipper.next(1_000);
    shipper.next(2_000);
    collector.record(outcome());
    collector.record(outcome());
    expect(shipper.next(3_000)).toBeNull();
    shipper.ack({ reporterId: "r1", upToSequence: 2 });
    const merged = shipper.next(4_000);
    expect(merged).toMatchObject({ sequence: 3, windowStartMs: 2_000, windowEndMs: 4_000 });
    expect(merged?.scripts[0]?.requests).toBe(2);
  });
});

describe("edge Prometheus registry", () => {
  it("exposes per script version counters and histograms with pop, script and version labels", async () => {
    const collector = new MetricsCollector(0);
    collector.record(outcome({ latencyMs: 4, cpuMs: 0.4 }));
    collector.record(outcome({ latencyMs: 4, cpuMs: 0.4 }));
    collector.record(outcome({ status: 500, errorCode: "EDGE_SCRIPT_ERROR", latencyMs: 20 }));
    const registry = createEdgeRegistry({
      pop: "fra",
      collector,
      stats: new NodeStatsSampler(),
      inFlight: () => 2,
      tail: { sessionCount: 1, droppedTotal: 0 },
    });
    const text = await registry.metrics();
    const line = (name: string) =>
      text
        .split("\n")
        .find((l) => l.startsWith(name))
        ?.split(" ")[1];
    expect(line('edge_requests_total{script="hello",version="1",status_class="2xx",pop="fra"}')).toBe("2");
    expect(line('edge_requests_total{script="hello",version="1",status_class="5xx",pop="fra"}')).toBe("1");
    expect(
      line('edge_request_errors_total{script="hello",version="1",code="EDGE_SCRIPT_ERROR",pop="fra"}'),
    ).toBe("1");
    expect(
      line('edge_request_duration_seconds_bucket{script="hello",version="1",le="0.005",pop="fra"}'),
    ).toBe("2");
    expect(line('edge_request_duration_seconds_bucket{script="hello",version="1",le="+Inf",pop="fra"}')).toBe(
      "3",
    );
    expect(line('edge_request_duration_seconds_count{script="hello",version="1",pop="fra"}')).toBe("3");
    expect(line('edge_request_duration_seconds_sum{script="hello",version="1",pop="fra"}')).toBe("0.028");
    expect(line('edge_in_flight_requests{pop="fra"}')).toBe("2");
    expect(line('edge_isolates_created_total{pop="fra"}')).toBe("3");
    expect(text).toContain("# TYPE edge_isolate_cpu_seconds histogram");
    expect(text).toMatch(/^process_cpu_seconds_total\{pop="fra"\} /m);
  });
});
