import type { TraceView } from "@edge/control-plane";
import { ms } from "../format.js";

/** A request as the API shows it in the tail and the log history: the control plane's own type. */
export type Trace = TraceView;

/** One line per request, then its console lines and its exception, indented. */
export function traceLines(t: Trace): string {
  const lines = [
    `${t.time} ${t.pop} ${t.method} ${t.url} ${t.status} ${ms(t.wallMs)}ms cpu ${ms(t.cpuMs)}ms v${t.version}`,
  ];
  for (const log of t.logs) lines.push(`  ${log.level.padEnd(5)} ${log.message}`);
  if (t.error) lines.push(`  ! ${t.error.code}: ${t.error.message}`);
  return `${lines.join("\n")}\n`;
}
