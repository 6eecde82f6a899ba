import { CronExpressionParser } from "cron-parser";
import { EdgeError } from "../errors.js";

/** Cloudflare's limit on Cron Triggers per script (paid plan). */
export const MAX_CRONS = 5;
/** Longest cron expression accepted; real ones are far shorter. */
const MAX_CRON_LENGTH = 100;

export interface CronOptions {
  /** Accept a leading seconds field (6 fields): a test-only aid (`EDGE_CRON_SECONDS`). */
  seconds: boolean;
}

const FIELD = /^[0-9a-z*,\-/#?]+$/i;
/** cron-parser's hashed ("H") fields: not cron, not Cloudflare. */
const HASHED = /(?:^|[^a-z])h(?:[^a-z]|$)/i;

function invalid(cron: string, why: string): EdgeError {
  return new EdgeError("EDGE_INVALID_CRON", `Invalid cron expression "${cron}": ${why}`);
}

/**
 * Checks one cron expression: five fields (minute hour day-of-month month
 * day-of-week, UTC), or six with a leading seconds field when `seconds` is
 * on. Throws EDGE_INVALID_CRON naming the expression.
 */
export function checkCron(cron: string, options: CronOptions): void {
  if (typeof cron !== "string" || cron.length === 0 || cron.length > MAX_CRON_LENGTH) {
    throw invalid(String(cron).slice(0, MAX_CRON_LENGTH), `expected 1-${MAX_CRON_LENGTH} characters`);
  }
  const fields = cron.trim().split(/\s+/);
  const wanted = options.seconds ? [5, 6] : [5];
  if (!wanted.includes(fields.length)) {
    throw invalid(cron, `expected ${wanted.join(" or ")} fields, got ${fields.length}`);
  }
  for (const field of fields) {
    if (!FIELD.test(field) || HASHED.test(field)) throw invalid(cron, `the field "${field}" is not valid`);
  }
  try {
    const parsed = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: 0 });
    if (!parsed.hasNext()) throw new Error("it never fires");
  } catch (err) {
    throw invalid(cron, err instanceof Error ? err.message : String(err));
  }
}

/** A deploy's `triggers.crons`: at most MAX_CRONS distinct valid expressions, normalised (trimmed). */
export function checkCrons(crons: readonly string[], options: CronOptions): string[] {
  if (crons.length > MAX_CRONS) {
    throw new EdgeError(
      "EDGE_INVALID_CRON",
      `A script may have at most ${MAX_CRONS} Cron Triggers, not ${crons.length}`,
    );
  }
  const out: string[] = [];
  for (const cron of crons) {
    checkCron(cron, options);
    const normal = cron.trim().split(/\s+/).join(" ");
    if (out.includes(normal)) throw invalid(cron, "it is listed twice");
    out.push(normal);
  }
  return out;
}

/** The first tick of `cron` strictly after `after` (epoch ms, UTC). */
export function nextTick(cron: string, after: number): number {
  return CronExpressionParser.parse(cron, { tz: "UTC", currentDate: after }).next().getTime();
}

/** Every tick of `cron` in (from, to], oldest first, at most `max` of them. */
export function ticksBetween(cron: string, from: number, to: number, max: number): number[] {
  const ticks: number[] = [];
  const expression = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: from, endDate: to });
  while (ticks.length < max && expression.hasNext()) {
    const tick = expression.next().getTime();
    if (tick > to) break;
    ticks.push(tick);
  }
  return ticks;
}
