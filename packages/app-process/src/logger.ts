import { type Logger, pino } from "pino";
import { formatLogLine, wantsColor } from "./pretty.js";
import type { LogFormat, LogLevel } from "./process-env.js";

export interface AppLoggerOptions {
  /** The app, e.g. `control-plane`: the `service` field, and the name a pretty line starts with. */
  service: string;
  level: LogLevel;
  format: LogFormat;
  /** More fields on every record. */
  base?: Record<string, unknown>;
  /** Where lines go (stdout by default). */
  destination?: { write(line: string): unknown; isTTY?: boolean };
}

/**
 * The app's root logger: JSON lines (the default, for compose and production)
 * or one pretty line per event (`EDGE_LOG_FORMAT=pretty`), written synchronously
 * so the last lines before an exit are not lost.
 */
export function createAppLogger(options: AppLoggerOptions): Logger {
  const base = { service: options.service, ...options.base };
  const out = options.destination ?? process.stdout;
  if (options.format === "json") {
    return options.destination
      ? pino({ level: options.level, base }, { write: (line: string) => void out.write(line) })
      : pino({ level: options.level, base }, pino.destination({ fd: 1, sync: true }));
  }
  const color = wantsColor(out);
  const stream = {
    write(line: string) {
      out.write(`${formatLogLine(line.trimEnd(), { name: options.service, color })}\n`);
    },
  };
  return pino({ level: options.level, base }, stream);
}
