import type { MetricsReport, NodeStats } from "@edge/protocol";
import { SCRIPT_NAME_PATTERN } from "../routes/scripts/params.js";
import type { Figures } from "./figures.js";

/**
 * Bounds on what one node's report may claim. Reports come from the network:
 * a broken or hostile node must not be able to poison totals (9e15 requests,
 * `+Inf` CPU load), the Prometheus label set (made-up script names) or the
 * control plane's memory. A report covers a few seconds of one node, so these
 * are far above anything real.
 */
export const REPORT_BOUNDS = {
  /** Script entries in one report. */
  maxScripts: 4_096,
  /** Histogram bounds a report may carry (ours are about 20). */
  maxBounds: 64,
  /** Requests (and isolate starts, memory samples) one entry may claim. */
  maxCount: 10_000_000,
  /** Largest per-request time (ms) a total may imply: an hour. */
  maxMsPerRequest: 3_600_000,
  /** Largest heap sample: 64 GiB. */
  maxMemoryBytes: 2 ** 36,
  /** Distinct versions of one script (per PoP) kept in the lifetime totals. */
  maxVersionsPerScript: 8,
} as const;

/** Whether a report's shape is within bounds at all (else it is dropped whole). */
export function plausibleReport(report: MetricsReport): boolean {
  return (
    report.scripts.length <= REPORT_BOUNDS.maxScripts &&
    report.latencyBoundsMs.length <= REPORT_BOUNDS.maxBounds &&
    report.cpuBoundsMs.length <= REPORT_BOUNDS.maxBounds
  );
}

/** A script entry's name and version as labels: a valid script name, a safe positive version. */
export function plausibleLabels(script: string, version: number): boolean {
  return SCRIPT_NAME_PATTERN.test(script) && Number.isSafeInteger(version) && version >= 1;
}

/**
 * Figures (already finite and non-negative, see `figuresFromReport`) that
 * agree with themselves: counts within bounds, parts not above the whole,
 * totals not above what the counts allow.
 */
export function plausibleFigures(f: Figures): boolean {
  const { maxCount, maxMsPerRequest, maxMemoryBytes } = REPORT_BOUNDS;
  if (f.requests > maxCount || f.isolateStarts > maxCount || f.memorySamples > maxCount) return false;
  if (f.errors > f.requests) return false;
  if (f.cpuMsTotal > f.requests * maxMsPerRequest || f.latencyMsTotal > f.requests * maxMsPerRequest)
    return false;
  if (f.isolateStartMsTotal > f.isolateStarts * maxMsPerRequest) return false;
  if (f.memoryBytesTotal > f.memorySamples * maxMemoryBytes) return false;
  if (sum(f.latencyBuckets) > f.requests || sum(f.cpuBuckets) > f.requests) return false;
  if (sum(Object.values(f.statusClasses)) > f.requests) return false;
  return sum(Object.values(f.errorsByCode)) <= f.requests;
}

/** Node-wide figures clamped to sane ranges (non-finite or negative: 0). */
export function clampNodeStats(stats: NodeStats): NodeStats {
  return {
    inFlight: clamp(stats.inFlight, REPORT_BOUNDS.maxCount),
    isolatesCreated: clamp(stats.isolatesCreated, REPORT_BOUNDS.maxCount),
    eventLoopLagP99Ms: clamp(stats.eventLoopLagP99Ms, REPORT_BOUNDS.maxMsPerRequest),
    eventLoopLagMaxMs: clamp(stats.eventLoopLagMaxMs, REPORT_BOUNDS.maxMsPerRequest),
    // Cores busy: no machine has more than a few thousand.
    cpuLoad: clamp(stats.cpuLoad, 4_096),
    rssBytes: clamp(stats.rssBytes, 2 ** 50),
    heapUsedBytes: clamp(stats.heapUsedBytes, 2 ** 50),
  };
}

function clamp(value: number, max: number): number {
  return Number.isFinite(value) && value > 0 ? Math.min(value, max) : 0;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
