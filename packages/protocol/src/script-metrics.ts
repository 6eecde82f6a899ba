import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS } from "./constants.js";
import type { ScriptMetrics } from "./generated/edge/v1/control.js";

/** A script version's figures with nothing counted yet, histograms sized to the shared bounds. */
export function emptyScriptMetrics(script: string, version: number): ScriptMetrics {
  return {
    script,
    version,
    requests: 0,
    errors: 0,
    cpuMsTotal: 0,
    latencyMsTotal: 0,
    latencyBuckets: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
    cpuBuckets: new Array<number>(CPU_BOUNDS_MS.length + 1).fill(0),
    statusClasses: {},
    errorsByCode: {},
    isolateStarts: 0,
    isolateStartMsTotal: 0,
    memorySamples: 0,
    memoryBytesTotal: 0,
    kvOps: {},
  };
}
