/**
 * `console` for scripts: each call is formatted here and handed to the host's
 * per-request sink, which records it as a LogLine (never the host's own log).
 */

export type LogLevel = "debug" | "info" | "log" | "warn" | "error";
/** The host's per-request collector; it returns false once its caps are reached. */
export type LogSink = (level: LogLevel, message: string) => boolean;

/** Longest message sent to the host; the host enforces its own caps as well. */
const MAX_MESSAGE_CHARS = 8 * 1024;

// Captured while the runtime loads, so a script replacing these cannot make
// the console hand the host an unbounded string.
const stringSlice = String.prototype.slice;
const reflectApply = Reflect.apply;

let sink: LogSink | null = null;

export function setLogSink(next: LogSink): void {
  sink = next;
}

function describe(value: unknown, seen: WeakSet<object>): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined || typeof value !== "object") {
    if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
    if (typeof value === "bigint") return `${value}n`;
    return String(value);
  }
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return `${v}n`;
      if (typeof v === "function") return `[Function: ${v.name || "(anonymous)"}]`;
      if (v === undefined) return "undefined";
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
      }
      return v;
    });
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function formatArgs(args: unknown[]): string {
  const parts: string[] = [];
  for (const arg of args) parts.push(describe(arg, new WeakSet()));
  return parts.join(" ");
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_CHARS
    ? reflectApply(stringSlice, message, [0, MAX_MESSAGE_CHARS])
    : message;
}

function send(level: LogLevel, message: string): void {
  // Once the host stops accepting lines, stop formatting and crossing into it.
  if (sink !== null && sink(level, truncate(message)) === false) sink = null;
}

function emit(level: LogLevel, args: unknown[]): void {
  if (sink === null) return;
  const message = formatArgs(args);
  send(level, typeof message === "string" ? message : "");
}

/** For messages the runtime itself logs on the script's behalf (e.g. a rejected waitUntil). */
export function logInternal(level: LogLevel, message: string): void {
  send(level, message);
}

export const console = {
  debug: (...args: unknown[]): void => emit("debug", args),
  info: (...args: unknown[]): void => emit("info", args),
  log: (...args: unknown[]): void => emit("log", args),
  warn: (...args: unknown[]): void => emit("warn", args),
  error: (...args: unknown[]): void => emit("error", args),
};
