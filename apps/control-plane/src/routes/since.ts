import { z } from "zod";

const UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time as a query parameter: a duration back from now (`90s`,
 * `15m`, `2h`, `1d`), epoch milliseconds, or an ISO-8601 time.
 */
export function timeParam(now: () => number = Date.now) {
  return z.string().transform((raw, ctx) => {
    const value = raw.trim();
    const relative = /^(\d{1,6})([smhd])$/.exec(value);
    if (relative) return now() - Number(relative[1]) * (UNITS_MS[relative[2] as string] as number);
    if (/^\d{10,15}$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    if (/^\d{4}-\d\d-\d\d/.test(value) && Number.isFinite(parsed)) return parsed;
    ctx.addIssue({
      code: "custom",
      message: "expected a duration such as 15m, epoch ms, or an ISO-8601 time",
    });
    return z.NEVER;
  });
}
