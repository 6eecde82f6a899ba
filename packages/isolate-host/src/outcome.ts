import { RunError, type RunErrorCode } from "./errors.js";
import type { HostResponse, LogLine } from "./types.js";

/** Codes the in-isolate runtime may report (runtime/dispatch.ts Outcome). */
const SCRIPT_CODES: ReadonlySet<string> = new Set<RunErrorCode>([
  "EDGE_SCRIPT_ERROR",
  "EDGE_BAD_RESPONSE",
  "EDGE_NO_FETCH_HANDLER",
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

interface Context {
  cpuMs: number;
  logs: LogLine[];
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
export function responseFromOutcome(outcome: unknown, context: Context): HostResponse {
  const options = { cpuMs: context.cpuMs, logs: context.logs };
  if (!isRecord(outcome)) throw new RunError("EDGE_BAD_RESPONSE", undefined, options);
  if (outcome.ok !== true) {
    const code =
      typeof outcome.code === "string" && SCRIPT_CODES.has(outcome.code)
        ? (outcome.code as RunErrorCode)
        : null;
    const message = typeof outcome.message === "string" ? outcome.message : undefined;
    throw new RunError(code ?? "EDGE_BAD_RESPONSE", message, options);
  }
  const { status, headers, body } = outcome;
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
  if (!(body instanceof Uint8Array)) {
    throw new RunError("EDGE_BAD_RESPONSE", "The script's response has a malformed body", options);
  }
  return { status, headers, body };
}
