import {
  type HistogramSample,
  type Sample,
  type SumCountSample,
  seconds,
  snapshotCounter,
  snapshotGauge,
  snapshotHistogram,
  snapshotSumCount,
} from "@edge/prometheus";
import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS, type ScriptMetrics } from "@edge/protocol";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { MetricsCollector } from "./collector.js";
import type { NodeStatsSampler } from "./node-stats.js";

export interface EdgePrometheusDeps {
  pop: string;
  collector: MetricsCollector;
  stats: NodeStatsSampler;
  inFlight: () => number;
  tail: { readonly sessionCount: number; readonly droppedTotal: number };
}

const LATENCY_BOUNDS_S = LATENCY_BOUNDS_MS.map(seconds);
const CPU_BOUNDS_S = CPU_BOUNDS_MS.map(seconds);

/**
 * The node's Prometheus registry (`GET /metrics` on a host outside the zone).
 * Every series carries `pop`; per-script series add `script` and `version`.
 * The same names are exposed, summed over the fleet, by the control plane.
 */
export function createEdgeRegistry(deps: EdgePrometheusDeps): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ pop: deps.pop });
  collectDefaultMetrics({ register: registry });
  const perVersion =
    <T>(pick: (m: ScriptMetrics, labels: { script: string; version: number }) => T[]) =>
    () =>
      [...deps.collector.lifetime()].flatMap((m) => pick(m, { script: m.script, version: m.version }));

  snapshotCounter(
    registry,
    "edge_requests_total",
    "Requests served, by script version and status class",
    perVersion<Sample>((m, labels) =>
      Object.entries(m.statusClasses).map(([cls, value]) => ({
        labels: { ...labels, status_class: cls },
        value,
      })),
    ),
  );
  snapshotCounter(
    registry,
    "edge_request_errors_total",
    "Requests that ended in an edge error, by script version and code",
    perVersion<Sample>((m, labels) =>
      Object.entries(m.errorsByCode).map(([code, value]) => ({ labels: { ...labels, code }, value })),
    ),
  );
  snapshotHistogram(
    registry,
    "edge_request_duration_seconds",
    "Time from request to response at the node",
    perVersion<HistogramSample>((m, labels) => [
      { labels, bounds: LATENCY_BOUNDS_S, counts: m.latencyBuckets, sum: seconds(m.latencyMsTotal) },
    ]),
  );
  snapshotHistogram(
    registry,
    "edge_isolate_cpu_seconds",
    "CPU time the isolate spent per request",
    perVersion<HistogramSample>((m, labels) => [
      { labels, bounds: CPU_BOUNDS_S, counts: m.cpuBuckets, sum: seconds(m.cpuMsTotal) },
    ]),
  );
  snapshotSumCount(
    registry,
    "edge_isolate_start_seconds",
    "Time from the request to the script evaluated in its fresh isolate",
    perVersion<SumCountSample>((m, labels) =>
      m.isolateStarts > 0 ? [{ labels, sum: seconds(m.isolateStartMsTotal), count: m.isolateStarts }] : [],
    ),
  );
  snapshotSumCount(
    registry,
    "edge_isolate_memory_bytes",
    "V8 heap in use in the isolate when the response was handed over",
    perVersion<SumCountSample>((m, labels) =>
      m.memorySamples > 0 ? [{ labels, sum: m.memoryBytesTotal, count: m.memorySamples }] : [],
    ),
  );
  const nodeGauge = (name: string, help: string, read: () => number) =>
    snapshotGauge(registry, name, help, () => [{ labels: {}, value: read() }]);
  nodeGauge("edge_in_flight_requests", "Requests being served right now", deps.inFlight);
  snapshotCounter(registry, "edge_isolates_created_total", "Isolates created for requests", () => [
    { labels: {}, value: deps.collector.isolatesCreatedTotal },
  ]);
  nodeGauge(
    "edge_event_loop_lag_p99_seconds",
    "99th percentile event-loop delay in the last metrics window",
    () => seconds(deps.stats.last.eventLoopLagP99Ms),
  );
  nodeGauge("edge_event_loop_lag_max_seconds", "Largest event-loop delay in the last metrics window", () =>
    seconds(deps.stats.last.eventLoopLagMaxMs),
  );
  nodeGauge(
    "edge_cpu_load",
    "Process CPU time per wall-clock time in the last metrics window (1 = one core)",
    () => deps.stats.last.cpuLoad,
  );
  nodeGauge(
    "edge_tail_sessions",
    "Live tail sessions this node ships logs for",
    () => deps.tail.sessionCount,
  );
  snapshotCounter(
    registry,
    "edge_tail_dropped_total",
    "Tail traces dropped because the buffer was full",
    () => [{ labels: {}, value: deps.tail.droppedTotal }],
  );
  return registry;
}
