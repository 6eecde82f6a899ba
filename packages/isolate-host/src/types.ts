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
  /** CPU time the isolate spent on this request. */
  cpuMs: number;
  wallMs: number;
  logs: LogLine[];
}
