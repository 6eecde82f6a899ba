import type { RunError } from "./errors.js";

/** Per-version limits; the runner clamps them to its node-wide maxima. */
export interface ScriptLimits {
  cpuMs: number;
  memoryMb: number;
  wallMs: number;
}

/** What the runner needs to know about one immutable script version. */
export interface WorkerScript {
  name: string;
  version: number;
  /** ES module source with `export default { fetch(request, env, ctx) }`. */
  source: string;
  vars: Record<string, string>;
  limits: ScriptLimits;
}

export interface HostRequest {
  method: string;
  /** Absolute URL as the script should see it. */
  url: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  /** Edge runs this request has already been through (from the hop header); its subrequests carry one more. */
  hops?: number;
}

/** How one run may be steered from outside. */
export interface RunOptions {
  /** Aborted when the client goes away: the run ends (EDGE_CLIENT_CLOSED) with its subrequests. */
  signal?: AbortSignal;
}

export interface HostResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export type LogLevel = "debug" | "info" | "log" | "warn" | "error";

/** One `console.*` call made by a script: data for the log tail, not the host's log. */
export interface LogLine {
  level: LogLevel;
  message: string;
  /** epoch milliseconds */
  time: number;
}

export interface RunResult {
  response: HostResponse;
  /** CPU time the isolate spent on this request, up to the response. */
  cpuMs: number;
  wallMs: number;
  /** From admission (see admission.ts) until the script module was ready in its fresh isolate (isolate start time). */
  startMs: number;
  /** V8 heap in use in the isolate when the response was handed over. */
  heapBytes: number;
  /** Console output up to the response. */
  logs: LogLine[];
  /**
   * Settles (never rejects) once ctx.waitUntil() work has ended and the
   * isolate is disposed; callers may ignore it.
   */
  waitUntil: Promise<WaitUntilResult>;
}

/** How a request's work after its response (ctx.waitUntil, a streamed body) ended. */
export interface WaitUntilResult {
  /** CPU time of the whole request, response and background work. */
  cpuMs: number;
  wallMs: number;
  /** Console output written after the response. */
  logs: LogLine[];
  /** A limit the background work hit (EDGE_CPU_LIMIT, EDGE_WALL_LIMIT, ...), or null. */
  error: RunError | null;
}

/** A response whose body is read from the isolate while the caller sends it (runStreaming). */
export interface StreamingResponse {
  status: number;
  headers: Array<[string, string]>;
  /** Byte length when the whole body was known up front (not a stream), else null. */
  length: number | null;
  /**
   * The body in chunks. Iterating may throw a RunError (EDGE_SCRIPT_ERROR if
   * the script's stream fails, EDGE_RESPONSE_TOO_LARGE, EDGE_CPU_LIMIT,
   * EDGE_WALL_LIMIT...) after some chunks were sent. Stopping early
   * (`break`, or `return()` on the iterator) cancels the script's stream.
   */
  body: AsyncIterableIterator<Uint8Array>;
}

export interface StreamingRunResult {
  response: StreamingResponse;
  cpuMs: number;
  wallMs: number;
  /** As RunResult.startMs. */
  startMs: number;
  /** As RunResult.heapBytes. */
  heapBytes: number;
  logs: LogLine[];
  /** Settles once the body is done (sent, failed or cancelled) and ctx.waitUntil() work has ended. */
  waitUntil: Promise<WaitUntilResult>;
}
