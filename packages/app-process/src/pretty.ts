/**
 * One readable line per pino record: time, process name, coloured level,
 * message, then the record's other fields as `key=value`. An error's stack
 * follows on indented lines. Used by `EDGE_LOG_FORMAT=pretty` and by the local
 * cluster's launcher for its children's JSON lines.
 */

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: "TRACE", color: "\x1b[90m" },
  20: { label: "DEBUG", color: "\x1b[36m" },
  30: { label: "INFO ", color: "\x1b[32m" },
  40: { label: "WARN ", color: "\x1b[33m" },
  50: { label: "ERROR", color: "\x1b[31m" },
  60: { label: "FATAL", color: "\x1b[41m\x1b[37m" },
};
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const BOLD = "\x1b[1m";

/** Fields shown elsewhere on the line, or noise for a person. */
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname", "service", "name", "v"]);

export interface PrettyOptions {
  /** The process name printed first; defaults to the record's `name`, then `service`. */
  name?: string | undefined;
  /** ANSI colours. */
  color: boolean;
  /** Pads the name to this width so messages line up. */
  nameWidth?: number;
}

/** Whether to colour output written to `stream`: a terminal, unless `NO_COLOR`; or `FORCE_COLOR`. */
export function wantsColor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

/** Formats one JSON log line; a line that is not a JSON object is returned as is, after the name. */
export function formatLogLine(line: string, options: PrettyOptions): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    record = null;
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    return `${paint(options, BOLD, pad(options.name ?? "", options.nameWidth))} ${line}`;
  }
  return formatRecord(record as Record<string, unknown>, options);
}

/** Formats one parsed pino record (no trailing newline). */
export function formatRecord(record: Record<string, unknown>, options: PrettyOptions): string {
  const level = LEVELS[Number(record.level)] ?? { label: String(record.level ?? "?").padEnd(5), color: "" };
  const name = options.name ?? str(record.name) ?? str(record.service) ?? "";
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    if ((key === "err" || key === "error") && value && typeof value === "object") {
      const err = value as { type?: unknown; message?: unknown; stack?: unknown; code?: unknown };
      const code = err.code === undefined ? "" : ` [${String(err.code)}]`;
      fields.push(
        `${key}=${JSON.stringify(`${str(err.type) ?? "Error"}: ${str(err.message) ?? ""}${code}`)}`,
      );
      if (Number(record.level) >= 50 && typeof err.stack === "string") stack = err.stack;
      continue;
    }
    fields.push(
      `${key}=${typeof value === "string" && /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value)}`,
    );
  }
  const head = [
    paint(options, DIM, time),
    paint(options, BOLD, pad(name, options.nameWidth)),
    paint(options, level.color, level.label),
    str(record.msg) ?? "",
  ]
    .filter((part) => part !== "")
    .join(" ");
  const line = fields.length ? `${head} ${paint(options, DIM, fields.join(" "))}` : head;
  if (!stack) return line;
  const trace = stack
    .split("\n")
    .slice(1)
    .map((l) => `    ${l.trim()}`)
    .join("\n");
  return trace ? `${line}\n${paint(options, DIM, trace)}` : line;
}

function paint(options: PrettyOptions, code: string, text: string): string {
  return options.color && code && text ? `${code}${text}${RESET}` : text;
}

function pad(text: string, width: number | undefined): string {
  return width ? text.padEnd(width) : text;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
