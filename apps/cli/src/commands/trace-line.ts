import { ms } from "../format.js";

/** A request as the API shows it in the tail and the log history. */
export interface Trace {
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
  error: { code: string; message: string } | null;
  logs: Array<{ time: string; level: string; message: string }>;
}

/** One line per request, then its console lines and its exception, indented. */
export function traceLines(t: Trace): string {
  const lines = [
    `${t.time} ${t.pop} ${t.method} ${t.url} ${t.status} ${ms(t.wallMs)}ms cpu ${ms(t.cpuMs)}ms v${t.version}`,
  ];
  for (const log of t.logs) lines.push(`  ${log.level.padEnd(5)} ${log.message}`);
  if (t.error) lines.push(`  ! ${t.error.code}: ${t.error.message}`);
  return `${lines.join("\n")}\n`;
}
