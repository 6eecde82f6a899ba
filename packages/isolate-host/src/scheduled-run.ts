import { isRunError, RunError, type RunErrorCode } from "./errors.js";
import { failureOf } from "./outcome.js";
import type { LogLine, ScheduledOutcomeKind, ScheduledResult } from "./types.js";

/** Failures that are a limit of the platform rather than the script's own exception. */
const LIMIT_CODES: ReadonlySet<RunErrorCode> = new Set<RunErrorCode>([
  "EDGE_CPU_LIMIT",
  "EDGE_MEMORY_LIMIT",
  "EDGE_WALL_LIMIT",
  "EDGE_SUBREQUEST_LIMIT",
  "EDGE_STARTUP_LIMIT",
]);

interface Context {
  cpuMs: number;
  logs: LogLine[];
  codeOf?: (code: RunErrorCode, message: string | undefined) => RunErrorCode;
}

/** What runtime/scheduled.ts reported: its ctx.waitUntil() count and noRetry(), or the RunError it reports. */
export function scheduledFromOutcome(
  outcome: unknown,
  context: Context,
): { noRetry: boolean; waitUntil: number } {
  if (typeof outcome !== "object" || outcome === null) {
    throw new RunError("EDGE_SCRIPT_ERROR", "The scheduled handler's outcome is malformed", context);
  }
  const record = outcome as Record<string, unknown>;
  if (record.ok !== true) {
    const error = failureOf(record, context);
    throw Object.assign(error, { noRetry: record.noRetry === true });
  }
  return {
    noRetry: record.noRetry === true,
    waitUntil: typeof record.waitUntil === "number" ? record.waitUntil : 1,
  };
}

export function outcomeKindOf(error: RunError | null): ScheduledOutcomeKind {
  if (error === null) return "ok";
  return LIMIT_CODES.has(error.code) ? "limit" : "exception";
}

/** The result of a run that failed with `err` (a RunError), for runScheduled(). */
export function failedScheduled(err: unknown, started: number): ScheduledResult {
  if (!isRunError(err)) throw err;
  return {
    outcome: outcomeKindOf(err),
    error: { code: err.code, message: err.message },
    noRetry: (err as { noRetry?: unknown }).noRetry === true,
    cpuMs: err.cpuMs,
    wallMs: performance.now() - started,
    logs: err.logs,
  };
}
