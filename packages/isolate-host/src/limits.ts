import type { ScriptLimits } from "./types.js";

export const DEFAULT_MAX_LIMITS: ScriptLimits = Object.freeze({ cpuMs: 50, memoryMb: 128, wallMs: 30_000 });

/** isolated-vm refuses memory limits below 8 MB. */
const MIN_MEMORY_MB = 8;

function positive(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A script's limits, each clamped to the node-wide maximum (a missing or bad value gets the maximum). */
export function clampLimits(requested: Partial<ScriptLimits> | undefined, max: ScriptLimits): ScriptLimits {
  return Object.freeze({
    cpuMs: Math.min(positive(requested?.cpuMs ?? Number.NaN, max.cpuMs), max.cpuMs),
    memoryMb: Math.max(
      MIN_MEMORY_MB,
      Math.min(positive(requested?.memoryMb ?? Number.NaN, max.memoryMb), max.memoryMb),
    ),
    wallMs: Math.min(positive(requested?.wallMs ?? Number.NaN, max.wallMs), max.wallMs),
  });
}
