import { CPU_BOUNDS_MS, emptyScriptMetrics, LATENCY_BOUNDS_MS, type ScriptMetrics } from "@edge/protocol";
import { LatencyHistogram } from "./histogram.js";

/**
 * Additive figures for one script version on one node over some time: what a
 * 1-minute bucket holds, what a report adds to it, and what the Prometheus
 * counters sum. Histogram buckets are over the control plane's bounds
 * (`LATENCY_BOUNDS_MS`, `CPU_BOUNDS_MS`, plus an overflow bucket each).
 */
export interface Figures {
  requests: number;
  errors: number;
  cpuMsTotal: number;
  latencyMsTotal: number;
  latencyBuckets: number[];
  cpuBuckets: number[];
  /** "1xx" ... "5xx" -> responses */
  statusClasses: Record<string, number>;
  /** edge error code -> requests */
  errorsByCode: Record<string, number>;
  isolateStarts: number;
  isolateStartMsTotal: number;
  memorySamples: number;
  memoryBytesTotal: number;
  /** Workers KV operations: "<namespace id>:<reads|misses|lists|writes>" -> count */
  kvOps: Record<string, number>;
}

/** A 1-minute bucket: figures of one script version on one node. */
export interface MetricsRow extends Figures {
  /** epoch ms of the minute's start */
  minute: number;
  script: string;
  version: number;
  nodeId: string;
  pop: string;
}

export const MINUTE_MS = 60_000;

export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
}

export function emptyFigures(): Figures {
  const { script: _script, version: _version, ...figures } = emptyScriptMetrics("", 0);
  return figures;
}

/** Adds `from` into `into` (same bounds). */
export function addFigures(into: Figures, from: Figures): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.cpuMsTotal += from.cpuMsTotal;
  into.latencyMsTotal += from.latencyMsTotal;
  addArray(into.latencyBuckets, from.latencyBuckets);
  addArray(into.cpuBuckets, from.cpuBuckets);
  addMap(into.statusClasses, from.statusClasses);
  addMap(into.errorsByCode, from.errorsByCode);
  into.isolateStarts += from.isolateStarts;
  into.isolateStartMsTotal += from.isolateStartMsTotal;
  into.memorySamples += from.memorySamples;
  into.memoryBytesTotal += from.memoryBytesTotal;
  addMap(into.kvOps, from.kvOps ?? {});
}

/**
 * A node's report entry as figures over our bounds. Reports come from the
 * network: anything not a finite, non-negative number counts as 0, and
 * buckets over other bounds are mapped onto ours (see `LatencyHistogram.add`).
 */
export function figuresFromReport(
  entry: ScriptMetrics,
  latencyBounds: readonly number[],
  cpuBounds: readonly number[],
): Figures {
  const latency = new LatencyHistogram(LATENCY_BOUNDS_MS);
  latency.add(latencyBounds, entry.latencyBuckets);
  const cpu = new LatencyHistogram(CPU_BOUNDS_MS);
  // A node that sends no CPU bounds sends no CPU buckets either.
  if (entry.cpuBuckets.length > 0) cpu.add(cpuBounds, entry.cpuBuckets);
  return {
    requests: count(entry.requests),
    errors: count(entry.errors),
    cpuMsTotal: count(entry.cpuMsTotal),
    latencyMsTotal: count(entry.latencyMsTotal),
    latencyBuckets: latency.counts,
    cpuBuckets: cpu.counts,
    statusClasses: countMap(entry.statusClasses ?? {}, /^[1-5]xx$/),
    errorsByCode: countMap(entry.errorsByCode ?? {}, /^[A-Z][A-Z0-9_]{0,63}$/),
    isolateStarts: count(entry.isolateStarts),
    isolateStartMsTotal: count(entry.isolateStartMsTotal),
    memorySamples: count(entry.memorySamples),
    memoryBytesTotal: count(entry.memoryBytesTotal),
    kvOps: countMap(entry.kvOps ?? {}, KV_OP_KEY),
  };
}

/** A `kvOps` key: a namespace id and an operation. */
export const KV_OP_KEY = /^[0-9a-f]{32}:(reads|misses|lists|writes)$/;

/** `kvOps` by namespace id: `{ reads, misses, lists, writes }`. */
export function kvOpsByNamespace(
  kvOps: Record<string, number>,
): Record<string, { reads: number; misses: number; lists: number; writes: number }> {
  const out: Record<string, { reads: number; misses: number; lists: number; writes: number }> = {};
  for (const [key, value] of Object.entries(kvOps)) {
    const [namespace, op] = key.split(":") as [string, "reads" | "misses" | "lists" | "writes"];
    out[namespace] ??= { reads: 0, misses: 0, lists: 0, writes: 0 };
    out[namespace][op] += value;
  }
  return out;
}

export function isEmptyFigures(f: Figures): boolean {
  return (
    f.requests === 0 && f.isolateStarts === 0 && f.memorySamples === 0 && Object.keys(f.kvOps).length === 0
  );
}

/** Anything not a finite, non-negative number counts as 0. */
export function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Keys outside `pattern` are dropped: they become Prometheus labels and store fields. */
function countMap(map: Record<string, number>, pattern: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(map)) {
    if (pattern.test(key) && count(value) > 0) out[key] = count(value);
  }
  return out;
}

function addArray(into: number[], from: readonly number[]): void {
  from.forEach((value, i) => {
    into[i] = (into[i] ?? 0) + value;
  });
}

function addMap(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}
