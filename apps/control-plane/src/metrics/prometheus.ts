import { registerScriptVersionMetrics, seconds, snapshotCounter, snapshotGauge } from "@edge/prometheus";
import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS } from "@edge/protocol";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { NodeView } from "../push/types.js";
import type { MetricsAggregator } from "./aggregator.js";

export interface ControlPlanePrometheusDeps {
  metrics: Pick<MetricsAggregator, "lifetime" | "nodes" | "pendingRows" | "flushFailures" | "droppedEntries">;
  nodes: () => NodeView[];
  tail: { readonly sessionCount: number; readonly droppedTotal: number };
  /** Cron Trigger ticks this replica claimed, by script and outcome (see src/cron/). */
  cronTicks?: () => Iterable<{ script: string; outcome: string; count: number }>;
}

/**
 * The control plane's `GET /metrics`: the fleet's figures since this process
 * started, under the names the edge nodes use (`edge_requests_total`...,
 * labels `pop`, `script`, `version`), node-wide figures labelled `pop` and
 * `node`, and the control plane's own state. Scrape either the control plane
 * or the nodes for per-script series, not both, or sums count twice.
 */
export function createControlPlaneRegistry(deps: ControlPlanePrometheusDeps): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerScriptVersionMetrics(registry, { latencyMs: LATENCY_BOUNDS_MS, cpuMs: CPU_BOUNDS_MS }, () =>
    [...deps.metrics.lifetime()].map((e) => ({
      labels: { pop: e.pop, script: e.script, version: e.version },
      figures: e,
    })),
  );

  snapshotCounter(
    registry,
    "edge_kv_operations_total",
    "Workers KV operations of a script version at a PoP, by namespace id and operation (reads, misses, lists, writes)",
    () =>
      [...deps.metrics.lifetime()].flatMap((e) =>
        Object.entries(e.kvOps).map(([key, value]) => {
          const [namespace = "", op = ""] = key.split(":");
          return { labels: { pop: e.pop, script: e.script, version: e.version, namespace, op }, value };
        }),
      ),
  );

  const perNode = (read: (n: ReturnType<typeof nodeList>[number]) => number) => () =>
    nodeList().map((n) => ({ labels: { pop: n.pop, node: n.nodeId }, value: read(n) }));
  const nodeList = () => [...deps.metrics.nodes()];
  snapshotGauge(
    registry,
    "edge_in_flight_requests",
    "Requests a node was serving at its last report",
    perNode((n) => n.stats.inFlight),
  );
  snapshotCounter(
    registry,
    "edge_isolates_created_total",
    "Isolates a node created (since this control plane started)",
    perNode((n) => n.isolatesCreated),
  );
  snapshotGauge(
    registry,
    "edge_event_loop_lag_p99_seconds",
    "99th percentile event-loop delay in a node's last metrics window",
    perNode((n) => seconds(n.stats.eventLoopLagP99Ms)),
  );
  snapshotGauge(
    registry,
    "edge_event_loop_lag_max_seconds",
    "Largest event-loop delay in a node's last metrics window",
    perNode((n) => seconds(n.stats.eventLoopLagMaxMs)),
  );
  snapshotGauge(
    registry,
    "edge_cpu_load",
    "A node's process CPU time per wall-clock time in its last metrics window",
    perNode((n) => n.stats.cpuLoad),
  );
  snapshotGauge(registry, "edge_nodes", "Edge nodes known to this control plane, by status", () => {
    const counts: Record<string, number> = { healthy: 0, unhealthy: 0, disconnected: 0 };
    for (const node of deps.nodes()) counts[node.status] = (counts[node.status] ?? 0) + 1;
    return Object.entries(counts).map(([status, value]) => ({ labels: { status }, value }));
  });
  snapshotGauge(registry, "edge_tail_sessions", "Open live tail sessions", () => [
    { labels: {}, value: deps.tail.sessionCount },
  ]);
  snapshotCounter(
    registry,
    "edge_tail_dropped_total",
    "Tail lines dropped for slow readers (at the control plane)",
    () => [{ labels: {}, value: deps.tail.droppedTotal }],
  );
  snapshotGauge(
    registry,
    "edge_metrics_pending_buckets",
    "Metrics buckets received but not stored yet",
    () => [{ labels: {}, value: deps.metrics.pendingRows }],
  );
  snapshotCounter(
    registry,
    "edge_metrics_flush_failures_total",
    "Failed writes of metrics to the store",
    () => [{ labels: {}, value: deps.metrics.flushFailures }],
  );
  snapshotCounter(
    registry,
    "edge_metrics_dropped_entries_total",
    "Script entries of node reports dropped (unknown script, invalid labels, implausible figures)",
    () => [{ labels: {}, value: deps.metrics.droppedEntries }],
  );
  snapshotCounter(
    registry,
    "edge_cron_ticks_total",
    "Cron Trigger ticks this replica claimed, by script and outcome (ok, exception, limit, lost, unavailable, missed)",
    () =>
      [...(deps.cronTicks?.() ?? [])].map((t) => ({
        labels: { script: t.script, outcome: t.outcome },
        value: t.count,
      })),
  );
  return registry;
}
