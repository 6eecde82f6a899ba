import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS } from "@edge/protocol";
import { addFigures, emptyFigures, type Figures, kvOpsByNamespace, type MetricsRow } from "./figures.js";
import { LatencyHistogram } from "./histogram.js";
import type {
  EdgeNodeStatsView,
  FiguresView,
  MetricsView,
  Quantiles,
  ScriptMetricsView,
  SeriesPoint,
} from "./types.js";

/** Sums 1-minute buckets into the `GET /v1/metrics` answer: per script, version, node and minute. */
export function buildView(
  rows: readonly MetricsRow[],
  window: { since: number; until: number },
  edgeNodes: EdgeNodeStatsView[],
): MetricsView {
  const scripts = new Map<string, ScriptGroups>();
  for (const row of rows) {
    let groups = scripts.get(row.script);
    if (!groups) {
      groups = { total: emptyFigures(), versions: new Map(), nodes: new Map(), minutes: new Map() };
      scripts.set(row.script, groups);
    }
    addFigures(groups.total, row);
    addFigures(group(groups.versions, row.version), row);
    const node = group(groups.nodes, row.nodeId) as Figures & { pop?: string };
    node.pop = row.pop;
    addFigures(node, row);
    addFigures(group(groups.minutes, row.minute), row);
  }
  return {
    since: new Date(window.since).toISOString(),
    until: new Date(window.until).toISOString(),
    bucketSeconds: 60,
    scripts: [...scripts.keys()].sort().map((name) => scriptView(name, scripts.get(name)!)),
    edgeNodes,
  };
}

interface ScriptGroups {
  total: Figures;
  versions: Map<number, Figures>;
  nodes: Map<string, Figures & { pop?: string }>;
  minutes: Map<number, Figures>;
}

function group<K>(map: Map<K, Figures>, key: K): Figures {
  let found = map.get(key);
  if (!found) {
    found = emptyFigures();
    map.set(key, found);
  }
  return found;
}

function scriptView(script: string, g: ScriptGroups): ScriptMetricsView {
  return {
    script,
    ...figuresView(g.total),
    versions: [...g.versions]
      .sort(([a], [b]) => b - a)
      .map(([version, f]) => ({ version, ...figuresView(f) })),
    nodes: [...g.nodes]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([nodeId, f]) => ({
        nodeId,
        pop: f.pop ?? "",
        requests: f.requests,
        errors: f.errors,
        latencyMs: quantiles(LATENCY_BOUNDS_MS, f.latencyBuckets),
        cpuMsTotal: round(f.cpuMsTotal),
      })),
    series: [...g.minutes].sort(([a], [b]) => a - b).map(([minute, f]) => point(minute, f)),
  };
}

export function figuresView(f: Figures): FiguresView {
  return {
    requests: f.requests,
    errors: f.errors,
    latencyMs: quantiles(LATENCY_BOUNDS_MS, f.latencyBuckets),
    cpuMs: quantiles(CPU_BOUNDS_MS, f.cpuBuckets),
    cpuMsTotal: round(f.cpuMsTotal),
    statusClasses: { ...f.statusClasses },
    errorsByCode: { ...f.errorsByCode },
    isolateStartMsAvg: f.isolateStarts > 0 ? round(f.isolateStartMsTotal / f.isolateStarts) : null,
    memoryBytesAvg: f.memorySamples > 0 ? Math.round(f.memoryBytesTotal / f.memorySamples) : null,
    kv: kvOpsByNamespace(f.kvOps),
  };
}

function point(minute: number, f: Figures): SeriesPoint {
  return {
    time: new Date(minute).toISOString(),
    requests: f.requests,
    errors: f.errors,
    cpuMsTotal: round(f.cpuMsTotal),
    latencyMs: quantiles(LATENCY_BOUNDS_MS, f.latencyBuckets),
    statusClasses: { ...f.statusClasses },
  };
}

function quantiles(bounds: readonly number[], counts: readonly number[]): Quantiles {
  const histogram = new LatencyHistogram(bounds);
  histogram.add(bounds, counts);
  return { p50: histogram.quantile(0.5), p90: histogram.quantile(0.9), p99: histogram.quantile(0.99) };
}

/** Microsecond precision is plenty and keeps float noise out of the API. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
