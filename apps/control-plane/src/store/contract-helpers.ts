import { createHash } from "node:crypto";
import type { NewVersion } from "./types.js";

/** Small builders the store contract's parts (`contract-*.ts`) share. */

export const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };

export function version(source: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return { sha256: sha256(source), source, vars: {}, limits: LIMITS, ...overrides };
}

export function sha256(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
