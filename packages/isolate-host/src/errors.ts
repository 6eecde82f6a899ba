import type { LogLine } from "./types.js";

/**
 * Errors a run can end with. Each has a stable code and the HTTP status an edge
 * node answers with. All but EDGE_OVERLOADED are the script's doing ("user
 * errors"); a failure of the host itself is rethrown as is.
 */
export const RUN_ERRORS = {
  EDGE_SCRIPT_ERROR: { status: 500, message: "The script threw an exception" },
  EDGE_BAD_RESPONSE: { status: 500, message: "The script's fetch handler did not return a Response" },
  EDGE_NO_FETCH_HANDLER: { status: 500, message: "The script has no default export with a fetch() method" },
  EDGE_NO_SCHEDULED_HANDLER: {
    status: 500,
    message: "The script has no default export with a scheduled() method",
  },
  EDGE_COMPILE_ERROR: { status: 500, message: "The script does not compile" },
  EDGE_CPU_LIMIT: { status: 503, message: "The script exceeded its CPU time limit" },
  EDGE_MEMORY_LIMIT: { status: 503, message: "The script exceeded its memory limit" },
  EDGE_WALL_LIMIT: { status: 504, message: "The script exceeded its wall-clock time limit" },
  EDGE_SUBREQUEST_LIMIT: { status: 503, message: "The script made more subrequests than it may" },
  EDGE_RESPONSE_TOO_LARGE: { status: 502, message: "A response was larger than the size limit" },
  // Cloudflare answers a handler that awaits nothing the host will ever complete the same way.
  EDGE_NO_RESPONSE: { status: 500, message: "The script will never generate a response" },
  EDGE_STARTUP_LIMIT: { status: 500, message: "The script's top-level code exceeded its start-up CPU limit" },
  // The client closed its connection before the response; nobody sees this status (nginx's 499).
  EDGE_CLIENT_CLOSED: { status: 499, message: "The client closed the connection" },
  // The one code that is not the script's doing: too many requests are waiting for an isolate.
  EDGE_OVERLOADED: { status: 503, message: "The node has too many requests waiting to run" },
} as const;

export type RunErrorCode = keyof typeof RUN_ERRORS;

/** Recognised by `isRunError`, not instanceof, so it survives module duplication. */
const MARKER = Symbol.for("edge.isolate-host.RunError");

export class RunError extends Error {
  readonly [MARKER] = true;
  readonly code: RunErrorCode;
  readonly status: number;
  /** CPU time spent before the run ended. */
  cpuMs: number;
  /** What the script wrote to `console` before it failed (for the log tail). */
  logs: LogLine[];
  /**
   * For an exception the script threw: its stack in the script's own files
   * (source maps applied, runtime frames left out), for the tail and logs.
   */
  scriptStack: string | null;
  /** Where the script threw: `file:line:column` in its own code (source maps applied), or null. */
  location: string | null;

  constructor(
    code: RunErrorCode,
    message?: string,
    options?: {
      cause?: unknown;
      cpuMs?: number;
      logs?: LogLine[];
      scriptStack?: string | null;
      location?: string | null;
    },
  ) {
    super(
      message ?? RUN_ERRORS[code].message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "RunError";
    this.code = code;
    this.status = RUN_ERRORS[code].status;
    this.cpuMs = options?.cpuMs ?? 0;
    this.logs = options?.logs ?? [];
    this.scriptStack = options?.scriptStack ?? null;
    this.location = options?.location ?? null;
  }
}

export function isRunError(err: unknown): err is RunError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[MARKER] === true;
}
