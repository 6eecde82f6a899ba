import type { Registry } from "prom-client";
import { seconds, snapshotCounter, snapshotHistogram, snapshotSumCount } from "./snapshot-metric.js";

/** The per script-version figures an edge node counts and the control plane sums (edge.v1 ScriptMetrics). */
export interface ScriptVersionFigures {
  statusClasses: Record<string, number>;
  errorsByCode: Record<string, number>;
  latencyBuckets: number[];
  latencyMsTotal: number;
  cpuBuckets: number[];
  cpuMsTotal: number;
  isolateStarts: number;
  isolateStartMsTotal: number;
  memorySamples: number;
  memoryBytesTotal: number;
}

export interface ScriptVersionSeries {
  /** `script`, `version`, and whatever else tells series apart (the control plane adds `pop`). */
  labels: Record<string, string | number>;
  figures: ScriptVersionFigures;
}

/**
 * The per script-version families, under one set of names for the edge nodes
 * and the control plane: requests by status class, errors by code, latency and
 * CPU histograms, isolate start time and heap. Bounds are in milliseconds, as
 * nodes report them.
 */
export function registerScriptVersionMetrics(
  registry: Registry,
  bounds: { latencyMs: readonly number[]; cpuMs: readonly number[] },
  series: () => Iterable<ScriptVersionSeries>,
): void {
  const latencyBounds = bounds.latencyMs.map(seconds);
  const cpuBounds = bounds.cpuMs.map(seconds);
  const each =
    <T>(pick: (figures: ScriptVersionFigures, labels: ScriptVersionSeries["labels"]) => T[]) =>
    () =>
      [...series()].flatMap(({ figures, labels }) => pick(figures, labels));

  snapshotCounter(
    registry,
    "edge_requests_total",
    "Requests served, by script version and status class",
    each((f, labels) =>
      Object.entries(f.statusClasses).map(([cls, value]) => ({
        labels: { ...labels, status_class: cls },
        value,
      })),
    ),
  );
  snapshotCounter(
    registry,
    "edge_request_errors_total",
    "Requests that ended in an edge error, by script version and code",
    each((f, labels) =>
      Object.entries(f.errorsByCode).map(([code, value]) => ({ labels: { ...labels, code }, value })),
    ),
  );
  snapshotHistogram(
    registry,
    "edge_request_duration_seconds",
    "Time from request to response at the node",
    each((f, labels) => [
      { labels, bounds: latencyBounds, counts: f.latencyBuckets, sum: seconds(f.latencyMsTotal) },
    ]),
  );
  snapshotHistogram(
    registry,
    "edge_isolate_cpu_seconds",
    "CPU time the isolate spent per request",
    each((f, labels) => [{ labels, bounds: cpuBounds, counts: f.cpuBuckets, sum: seconds(f.cpuMsTotal) }]),
  );
  snapshotSumCount(
    registry,
    "edge_isolate_start_seconds",
    "Time from the request to the script evaluated in its fresh isolate",
    each((f, labels) =>
      f.isolateStarts > 0 ? [{ labels, sum: seconds(f.isolateStartMsTotal), count: f.isolateStarts }] : [],
    ),
  );
  snapshotSumCount(
    registry,
    "edge_isolate_memory_bytes",
    "V8 heap in use in the isolate when the response was handed over",
    each((f, labels) =>
      f.memorySamples > 0 ? [{ labels, sum: f.memoryBytesTotal, count: f.memorySamples }] : [],
    ),
  );
}
