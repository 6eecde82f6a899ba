import { LATENCY_BOUNDS_MS, type MetricsReport } from "@edge/protocol";
import type { LatencySummary, MetricsSource, MetricsView, ScriptMetricsView } from "../push/types.js";
import { LatencyHistogram } from "./histogram.js";

export interface MetricsAggregator extends MetricsSource {
  /** Adds one node's report window to the running totals. */
  record(node: { id: string; pop: string }, report: MetricsReport): void;
}

interface Totals {
  requests: number;
  errors: number;
  cpuMsTotal: number;
  latency: LatencyHistogram;
}

interface ScriptTotals extends Totals {
  /** node id -> that node's share */
  nodes: Map<string, Totals & { pop: string }>;
}

/**
 * Running totals since start-up, per script and per (script, node), across all
 * versions of a script. Quantiles come from the merged histograms (see
 * `LatencyHistogram.quantile`: linear interpolation inside the bucket).
 */
export function createMetricsAggregator(bounds: readonly number[] = LATENCY_BOUNDS_MS): MetricsAggregator {
  const scripts = new Map<string, ScriptTotals>();
  const emptyTotals = (): Totals => ({
    requests: 0,
    errors: 0,
    cpuMsTotal: 0,
    latency: new LatencyHistogram(bounds),
  });

  return {
    record(node, report): void {
      for (const entry of report.scripts) {
        if (entry.script === "") continue;
        let script = scripts.get(entry.script);
        if (script === undefined) {
          script = { ...emptyTotals(), nodes: new Map() };
          scripts.set(entry.script, script);
        }
        let share = script.nodes.get(node.id);
        if (share === undefined) {
          share = { ...emptyTotals(), pop: node.pop };
          script.nodes.set(node.id, share);
        }
        share.pop = node.pop;
        for (const totals of [script, share]) {
          totals.requests += count(entry.requests);
          totals.errors += count(entry.errors);
          totals.cpuMsTotal += count(entry.cpuMsTotal);
          totals.latency.add(report.latencyBoundsMs, entry.latencyBuckets);
        }
      }
    },

    view(name?: string): MetricsView {
      const names = name === undefined ? [...scripts.keys()].sort() : scripts.has(name) ? [name] : [];
      return { scripts: names.map((script) => toView(script, scripts.get(script)!)) };
    },
  };
}

function toView(script: string, totals: ScriptTotals): ScriptMetricsView {
  return {
    script,
    ...figures(totals),
    nodes: [...totals.nodes]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([nodeId, share]) => ({ nodeId, pop: share.pop, ...figures(share) })),
  };
}

function figures(totals: Totals): {
  requests: number;
  errors: number;
  latencyMs: LatencySummary;
  cpuMsTotal: number;
} {
  return {
    requests: totals.requests,
    errors: totals.errors,
    latencyMs: { p50: totals.latency.quantile(0.5), p99: totals.latency.quantile(0.99) },
    cpuMsTotal: Math.round(totals.cpuMsTotal * 1000) / 1000,
  };
}

/** Reports come from the network: anything not a finite, non-negative number counts as 0. */
function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
