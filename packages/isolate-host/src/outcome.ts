import { RunError, type RunErrorCode } from "./errors.js";
import type { MappedStack } from "./modules/stack-map.js";
import type { LogLine } from "./types.js";

/** Codes the in-isolate runtime may report (runtime/dispatch.ts Outcome). */
const SCRIPT_CODES: ReadonlySet<string> = new Set<RunErrorCode>([
  "EDGE_SCRIPT_ERROR",
  "EDGE_BAD_RESPONSE",
  "EDGE_NO_FETCH_HANDLER",
  "EDGE_NO_SCHEDULED_HANDLER",
  "EDGE_RESPONSE_TOO_LARGE",
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

interface Context {
  cpuMs: number;
  logs: LogLine[];
  /** Maps an uncaught failure to the platform limit behind it (see IsolateSession.scriptFailureCode). */
  codeOf?: (code: RunErrorCode, message: string | undefined) => RunErrorCode;
  /** Maps the script's stack onto its own files (see modules/stack-map.ts). */
  mapStack?: (stack: string) => MappedStack;
}

/** A validated response head; `body` is null when the script's body is a stream still to be pulled. */
export interface ResponseOutcome {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  /** ctx.waitUntil() promises pending when the response was ready. */
  waitUntil: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function validHeaders(value: unknown): value is Array<[string, string]> {
  return (
    Array.isArray(value) &&
    value.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === "string" &&
        typeof pair[1] === "string" &&
        TOKEN.test(pair[0]) &&
        !BAD_VALUE.test(pair[1]),
    )
  );
}

/**
 * Turns what the isolate's dispatch() returned into a HostResponse, or throws
 * the RunError it reports. The script controls its whole isolate, so nothing
 * about the value is trusted: anything malformed is EDGE_BAD_RESPONSE.
 */
export function responseFromOutcome(outcome: unknown, context: Context): ResponseOutcome {
  const options = { cpuMs: context.cpuMs, logs: context.logs };
  if (!isRecord(outcome)) throw new RunError("EDGE_BAD_RESPONSE", undefined, options);
  if (outcome.ok !== true) throw failureOf(outcome, context);
  const { status, headers, body, waitUntil } = outcome;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new RunError(
      "EDGE_BAD_RESPONSE",
      `The script's response has an invalid status: ${String(status)}`,
      options,
    );
  }
  if (!validHeaders(headers)) {
    throw new RunError("EDGE_BAD_RESPONSE", "The script's response has malformed headers", options);
  }
  if (!(body instanceof Uint8Array) && body !== null) {
    throw new RunError("EDGE_BAD_RESPONSE", "The script's response has a malformed body", options);
  }
  return { status, headers, body, waitUntil: typeof waitUntil === "number" ? waitUntil : 1 };
}

/** The RunError for a failure the runtime reported ({ code, message }); unknown codes are EDGE_BAD_RESPONSE. */
export function failureOf(outcome: Record<string, unknown>, context: Context): RunError {
  const code =
    typeof outcome.code === "string" && SCRIPT_CODES.has(outcome.code)
      ? (outcome.code as RunErrorCode)
      : null;
  const message = typeof outcome.message === "string" ? outcome.message : undefined;
  const final = context.codeOf?.(code ?? "EDGE_BAD_RESPONSE", message) ?? code ?? "EDGE_BAD_RESPONSE";
  const mapped =
    final === "EDGE_SCRIPT_ERROR" && typeof outcome.stack === "string" && outcome.stack !== ""
      ? context.mapStack?.(outcome.stack)
      : undefined;
  return new RunError(final, message, {
    cpuMs: context.cpuMs,
    logs: context.logs,
    scriptStack: mapped?.stack ?? null,
    location: mapped?.location ?? null,
  });
}

/** Validates one pull() result: a chunk, the end (null), or the failure it reports. */
export function chunkFromPull(result: unknown, context: Context): Uint8Array | null {
  if (!isRecord(result)) throw new RunError("EDGE_BAD_RESPONSE", "The script's body stream broke", context);
  if (result.done === true) {
    if (typeof result.code === "string") throw failureOf(result, context);
    return null;
  }
  if (!(result.chunk instanceof Uint8Array)) {
    throw new RunError("EDGE_BAD_RESPONSE", "The script's body stream produced a malformed chunk", context);
  }
  return result.chunk;
}
