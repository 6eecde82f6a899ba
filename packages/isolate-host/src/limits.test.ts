import { describe, expect, it } from "vitest";
import { clampLimits, DEFAULT_MAX_LIMITS } from "./limits.js";

describe("clampLimits", () => {
  it("keeps limits under the maxima and lowers those above", () => {
    expect(clampLimits({ cpuMs: 10, memoryMb: 200, wallMs: 1_000 }, DEFAULT_MAX_LIMITS)).toEqual({
      cpuMs: 10,
      memoryMb: 128,
      wallMs: 1_000,
    });
  });

  it("gives missing, zero or non-finite limits the maximum", () => {
    expect(clampLimits({ cpuMs: 0, memoryMb: Number.NaN }, DEFAULT_MAX_LIMITS)).toEqual(DEFAULT_MAX_LIMITS);
    expect(clampLimits(undefined, DEFAULT_MAX_LIMITS)).toEqual(DEFAULT_MAX_LIMITS);
  });

  it("never goes below isolated-vm's 8 MB memory minimum", () => {
    expect(clampLimits({ memoryMb: 1 }, DEFAULT_MAX_LIMITS).memoryMb).toBe(8);
  });
});
