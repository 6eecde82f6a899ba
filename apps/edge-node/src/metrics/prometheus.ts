import { registerScriptVersionMetrics, seconds, snapshotCounter, snapshotGauge } from "@edge/prometheus";
import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS } from "@edge/protocol";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { MetricsCollector } from "./collector.js";
import type { NodeStatsSampler } from "./node-stats.js";

export interface EdgePrometheusDeps {
  pop: string;
  collector: MetricsCollector;
  stats: NodeStatsSampler;
  inFlight: () => number;
  tail: { readonly sessionCount: number; readonly droppedTotal: number };
  /** Bytes in the Cache API store; absent: no cache gauge. */
  cacheBytes?: () => number;
}

/**
 * The node's Prometheus registry (`GET /metrics` on a host outside the zone).
 * Every series carries `pop`; per-script series add `script` and `version`.
 * The same names are exposed, summed over the fleet, by the control plane.
 */
export function createEdgeRegistry(deps: EdgePrometheusDeps): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ pop: deps.pop });
  collectDefaultMetrics({ register: registry });
  registerScriptVersionMetrics(registry, { latencyMs: LATENCY_BOUNDS_MS, cpuMs: CPU_BOUNDS_MS }, () =>
    [...deps.collector.lifetime()].map((m) => ({
      labels: { script: m.script, version: m.version },
      figures: m,
    })),
  );
  const nodeGauge = (name: string, help: string, read: () => number) =>
    snapshotGauge(registry, name, help, () => [{ labels: {}, value: read() }]);
  nodeGauge("edge_in_flight_requests", "Requests being served right now", deps.inFlight);
  snapshotCounter(
    registry,
    "edge_kv_operations_total",
    "Workers KV operations of a script version, by namespace id and operation (reads, misses, lists, writes)",
    () =>
      [...deps.collector.lifetime()].flatMap((m) =>
        Object.entries(m.kvOps).map(([key, value]) => {
          const [namespace = "", op = ""] = key.split(":");
          return { labels: { script: m.script, version: m.version, namespace, op }, value };
        }),
      ),
  );
  snapshotCounter(
    registry,
    "edge_cache_events_total",
    "Cache API events of a script on this node (hits, misses, puts, hitBytes, putBytes, evictions)",
    () =>
      deps.collector.cacheEvents().map(({ script, event, value }) => ({ labels: { script, event }, value })),
  );
  const cacheBytes = deps.cacheBytes;
  if (cacheBytes !== undefined)
    nodeGauge("edge_cache_bytes", "Bytes held by this node's Cache API store", cacheBytes);
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
