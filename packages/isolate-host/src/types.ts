import type { RunError } from "./errors.js";

/** Per-version limits; the runner clamps them to its node-wide maxima. */
export interface ScriptLimits {
  cpuMs: number;
  memoryMb: number;
  wallMs: number;
}

/**
 * The kinds of module a version may hold besides its main ES module, as in
 * Cloudflare's Workers upload API: ES modules, text (imported as a string),
 * data (an ArrayBuffer), Wasm (a WebAssembly.Module), and source maps (never
 * imported: `<module>.map` maps that module's positions in stack traces).
 */
export type ModuleType = "esm" | "text" | "data" | "wasm" | "sourcemap";

/** One module of a multi-module version. */
export interface ScriptModule {
  /** Its path in the version, e.g. `lib/util.js`; imports resolve against it like URL paths. */
  name: string;
  type: ModuleType;
  content: Uint8Array;
}

/** What the runner needs to know about one immutable script version. */
export interface WorkerScript {
  name: string;
  version: number;
  /** The main ES module's source, with `export default { fetch(request, env, ctx) }`. */
  source: string;
  /** The main module's name (default `<name>.js`): what its imports resolve against. */
  mainModule?: string;
  /** The version's other modules (none for a single-module script). */
  modules?: ScriptModule[];
  vars: Record<string, string>;
  limits: ScriptLimits;
  /** Workers KV bindings: env name -> namespace id, served by the runner's `kv` provider. */
  kvBindings?: Record<string, string>;
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

/** A Cron Trigger firing: the expression and the tick it is for (epoch ms), as `controller.cron` / `scheduledTime`. */
export interface ScheduledEvent {
  cron: string;
  scheduledTime: number;
}

/** How a scheduled() run ended: Cloudflare's ok / exception / exceeded-limit outcomes. */
export type ScheduledOutcomeKind = "ok" | "exception" | "limit";

/** A finished Cron Trigger run (its ctx.waitUntil() work included, as on Cloudflare). */
export interface ScheduledResult {
  outcome: ScheduledOutcomeKind;
  /** Why it was not ok (EDGE_SCRIPT_ERROR, EDGE_CPU_LIMIT, EDGE_NO_SCHEDULED_HANDLER, ...), else null. */
  error: { code: string; message: string } | null;
  /** The handler called `controller.noRetry()`. */
  noRetry: boolean;
  cpuMs: number;
  wallMs: number;
  logs: LogLine[];
}
