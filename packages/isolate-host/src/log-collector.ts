import type { LogLevel, LogLine } from "./types.js";

const LEVELS: ReadonlySet<string> = new Set<LogLevel>(["debug", "info", "log", "warn", "error"]);

/** Caps keep a chatty or hostile script from growing host memory through console output. */
export const LOG_CAPS = Object.freeze({ maxLines: 256, maxLineChars: 8 * 1024, maxTotalChars: 256 * 1024 });

/** Collects one request's console output as LogLines, within LOG_CAPS. */
export class LogCollector {
  readonly lines: LogLine[] = [];
  #chars = 0;
  #full = false;

  /** Records one line (written at `time`, default now); false once the caps are reached, so the runtime can stop sending. */
  add(level: unknown, message: unknown, time = Date.now()): boolean {
    if (this.#full) return false;
    let text = typeof message === "string" ? message : String(message);
    if (text.length > LOG_CAPS.maxLineChars) text = text.slice(0, LOG_CAPS.maxLineChars);
    if (this.lines.length >= LOG_CAPS.maxLines || this.#chars + text.length > LOG_CAPS.maxTotalChars) {
      this.#full = true;
      this.lines.push({
        level: "warn",
        message: "[edge] console output limit reached; later lines of this request were dropped",
        time: Date.now(),
      });
      return false;
    }
    this.#chars += text.length;
    this.lines.push({
      level: typeof level === "string" && LEVELS.has(level) ? (level as LogLevel) : "log",
      message: text,
      time,
    });
    return true;
  }
}
