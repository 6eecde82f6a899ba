import type { RequestTrace } from "@edge/protocol";

/** A request as the tail stream and the log history show it (JSON). */
export interface TraceView {
  /** ISO-8601 time the request arrived. */
  time: string;
  script: string;
  version: number;
  pop: string;
  nodeId: string;
  method: string;
  url: string;
  status: number;
  cpuMs: number;
  wallMs: number;
  /** The edge error the request ended in, if any (uncaught exceptions are EDGE_SCRIPT_ERROR). */
  error: { code: string; message: string } | null;
  logs: Array<{ time: string; level: string; message: string }>;
}

export function traceView(t: RequestTrace): TraceView {
  return {
    time: new Date(t.timeMs).toISOString(),
    script: t.script,
    version: t.version,
    pop: t.pop,
    nodeId: t.nodeId,
    method: t.method,
    url: t.url,
    status: t.status,
    cpuMs: round(t.cpuMs),
    wallMs: round(t.wallMs),
    error: t.errorCode === "" ? null : { code: t.errorCode, message: t.errorMessage },
    logs: t.logs.map((l) => ({ time: new Date(l.timeMs).toISOString(), level: l.level, message: l.message })),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
