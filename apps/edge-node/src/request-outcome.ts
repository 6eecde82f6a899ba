import type { LogLine } from "@edge/isolate-host";

/**
 * What the HTTP front knows about one request once it is answered: the input
 * of both the metrics collector and the log tail, built once per request.
 */
export interface RequestOutcome {
  script: string;
  version: number;
  method: string;
  url: string;
  status: number;
  /** epoch ms when the request arrived */
  startedAt: number;
  latencyMs: number;
  cpuMs: number;
  /** Whether an isolate was created for it (false when the request was refused before running). */
  ranIsolate: boolean;
  /** An edge error code (`EDGE_SCRIPT_ERROR`, `EDGE_CPU_LIMIT`...), or null. */
  errorCode: string | null;
  errorMessage: string | null;
  logs: readonly LogLine[];
  /** Filled when the isolate host reports them. */
  isolateStartMs: number | null;
  memoryBytes: number | null;
}

/** "1xx" ... "5xx"; anything outside 100-599 counts as "5xx". */
export function statusClass(status: number): string {
  const digit = Math.floor(status / 100);
  return digit >= 1 && digit <= 5 ? `${digit}xx` : "5xx";
}
