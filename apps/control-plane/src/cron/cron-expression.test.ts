import { describe, expect, it } from "vitest";
import { checkCron, checkCrons, MAX_CRONS, nextTick, ticksBetween } from "./cron-expression.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const five = { seconds: false };

describe("cron expressions", () => {
  it("computes the next tick in UTC, strictly after the given time", () => {
    expect(iso(nextTick("*/5 * * * *", at("2026-03-29T00:58:00Z")))).toBe("2026-03-29T01:00:00.000Z");
    expect(iso(nextTick("*/5 * * * *", at("2026-03-29T01:00:00Z")))).toBe("2026-03-29T01:05:00.000Z");
    // The EU's DST switch night changes nothing: UTC has no gap or repeat.
    expect(iso(nextTick("30 1 * * *", at("2026-03-29T00:00:00Z")))).toBe("2026-03-29T01:30:00.000Z");
    expect(iso(nextTick("30 2 * * *", at("2026-10-25T02:30:00Z")))).toBe("2026-10-26T02:30:00.000Z");
  });

  it("rolls over month and year ends, and skips months without the day", () => {
    expect(iso(nextTick("0 0 1 * *", at("2026-12-15T00:00:00Z")))).toBe("2027-01-01T00:00:00.000Z");
    expect(iso(nextTick("0 12 31 * *", at("2026-04-01T00:00:00Z")))).toBe("2026-05-31T12:00:00.000Z");
    expect(iso(nextTick("0 0 29 2 *", at("2026-03-01T00:00:00Z")))).toBe("2028-02-29T00:00:00.000Z");
    expect(iso(nextTick("0 0 L * *", at("2026-02-10T00:00:00Z")))).toBe("2026-02-28T00:00:00.000Z");
  });

  it("reads weekdays as standard cron: 0 and 7 are Sunday, names work, day-of-month OR day-of-week", () => {
    // 2026-12-02 is a Wednesday.
    expect(iso(nextTick("0 9 * * 0", at("2026-12-02T00:00:00Z")))).toBe("2026-12-06T09:00:00.000Z");
    expect(iso(nextTick("0 9 * * 7", at("2026-12-02T00:00:00Z")))).toBe("2026-12-06T09:00:00.000Z");
    expect(iso(nextTick("0 9 * * MON-FRI", at("2026-12-04T10:00:00Z")))).toBe("2026-12-07T09:00:00.000Z");
    expect(iso(nextTick("0 0 1 * MON", at("2026-12-02T00:00:00Z")))).toBe("2026-12-07T00:00:00.000Z");
    expect(iso(nextTick("0 0 * * 5#1", at("2026-12-02T00:00:00Z")))).toBe("2026-12-04T00:00:00.000Z");
  });

  it("lists the ticks in a window, oldest first and bounded", () => {
    const ticks = ticksBetween("*/15 * * * *", at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 10);
    expect(ticks.map(iso)).toEqual([
      "2026-01-01T00:15:00.000Z",
      "2026-01-01T00:30:00.000Z",
      "2026-01-01T00:45:00.000Z",
      "2026-01-01T01:00:00.000Z",
    ]);
    expect(ticksBetween("* * * * *", 0, 86_400_000, 3)).toHaveLength(3);
  });

  it("refuses bad expressions with EDGE_INVALID_CRON naming the expression", () => {
    for (const bad of [
      "",
      "* * * *",
      "* * * * * *",
      "61 * * * *",
      "* 24 * * *",
      "* * 32 * *",
      "* * * 13 *",
      "H * * * *",
      "@daily",
      "* * * * 8",
      "a b c d e",
    ]) {
      let error: unknown;
      try {
        checkCron(bad, five);
      } catch (err) {
        error = err;
      }
      expect(error, bad).toMatchObject({ code: "EDGE_INVALID_CRON" });
      expect((error as Error).message, bad).toContain(`"${bad}"`);
    }
  });

  it("accepts a seconds field only when the test-only option allows it", () => {
    expect(() => checkCron("* * * * * *", { seconds: true })).not.toThrow();
    expect(() => checkCron("*/5 * * * *", { seconds: true })).not.toThrow();
    expect(nextTick("* * * * * *", 1_000) - 1_000).toBe(1_000);
  });

  it("allows at most five distinct crons per script and normalises spacing", () => {
    expect(checkCrons([" */5  * * * *"], five)).toEqual(["*/5 * * * *"]);
    const six = Array.from({ length: MAX_CRONS + 1 }, (_, i) => `${i} * * * *`);
    expect(() => checkCrons(six, five)).toThrow(/at most 5/);
    expect(() => checkCrons(["0 * * * *", "0  * * * *"], five)).toThrow(/listed twice/);
  });
});
