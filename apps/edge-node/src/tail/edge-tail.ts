import type {
  LogsQuery,
  LogsReply,
  RequestTrace,
  TailBatch,
  TailDelivery,
  TailSessions,
} from "@edge/protocol";
import type { RequestOutcome } from "../request-outcome.js";
import { compileFilter, type RequestPredicate, sampler } from "./filter.js";
import { LogHistory } from "./history.js";

export interface EdgeTailOptions {
  pop: string;
  nodeId: string;
  /** Traces waiting to be shipped; beyond this they are dropped and counted per session. */
  bufferSize: number;
  /** How often buffered traces are shipped. */
  flushMs: number;
  historyPerScript: number;
  historyMaxAgeMs: number;
  random?: () => number;
  now?: () => number;
}

interface Session {
  id: string;
  matches: RequestPredicate;
  sampled: () => boolean;
}

/** Traces per batch: keeps a message well under the gRPC limit even with full console output. */
const MAX_BATCH = 64;
/** An error message kept in the history is cut here; the live tail carries it whole. */
const HISTORY_MESSAGE_CHARS = 2048;

/**
 * The node's side of the live tail and the log history. The control plane
 * sends the open sessions; for a script with at least one, every request is
 * checked against each session's filter and then sampled (filter first, so a
 * rare error is not sampled away), and a match is buffered once for all the
 * sessions it matched. Buffered traces ship every `flushMs`. Scripts nobody
 * tails cost one map lookup per request, plus the history summary.
 */
export class EdgeTail {
  readonly history: LogHistory;
  readonly #options: EdgeTailOptions;
  readonly #random: () => number;
  #sessions = new Map<string, Session[]>();
  #buffer: TailDelivery[] = [];
  #dropped = new Map<string, number>();
  #droppedTotal = 0;
  #send: ((batch: TailBatch) => boolean) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: EdgeTailOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.history = new LogHistory({
      maxPerScript: options.historyPerScript,
      maxAgeMs: options.historyMaxAgeMs,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** Called by the HTTP front once per answered request. */
  observe(outcome: RequestOutcome): void {
    this.history.add(this.#trace(outcome, false));
    const sessions = this.#sessions.get(outcome.script);
    if (sessions === undefined) return;
    const ids: string[] = [];
    for (const session of sessions) {
      if (session.matches(outcome) && session.sampled()) ids.push(session.id);
    }
    if (ids.length === 0) return;
    if (this.#buffer.length >= this.#options.bufferSize) {
      for (const id of ids) this.#dropped.set(id, (this.#dropped.get(id) ?? 0) + 1);
      this.#droppedTotal += 1;
      return;
    }
    this.#buffer.push({ trace: this.#trace(outcome, true), sessionIds: ids });
    if (this.#buffer.length >= MAX_BATCH) this.flush();
  }

  /** The control plane's complete set of open sessions; replaces the previous one. */
  setSessions(message: TailSessions): void {
    const next = new Map<string, Session[]>();
    for (const s of message.sessions) {
      const list = next.get(s.script) ?? [];
      list.push({
        id: s.id,
        matches: compileFilter(s.filter, this.#options.pop),
        sampled: sampler(s.filter?.sampleRate ?? 0, this.#random),
      });
      next.set(s.script, list);
    }
    this.#sessions = next;
    const open = new Set(message.sessions.map((s) => s.id));
    for (const id of this.#dropped.keys()) if (!open.has(id)) this.#dropped.delete(id);
  }

  answer(query: LogsQuery): LogsReply {
    return this.history.query(
      query.queryId,
      query.script,
      query.sinceMs,
      query.limit,
      compileFilter(query.filter, this.#options.pop),
    );
  }

  /** A stream to the control plane is open: ship through `send`. */
  connected(send: (batch: TailBatch) => boolean): void {
    this.#send = send;
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.flush(), this.#options.flushMs);
      this.#timer.unref();
    }
  }

  /** The stream is gone: the sessions went with it (the next control plane sends its own). */
  disconnected(): void {
    this.#send = null;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#sessions = new Map();
    this.#buffer = [];
    this.#dropped = new Map();
  }

  flush(): void {
    if (this.#send === null || (this.#buffer.length === 0 && this.#dropped.size === 0)) return;
    while (this.#buffer.length > 0 || this.#dropped.size > 0) {
      const batch: TailBatch = {
        deliveries: this.#buffer.splice(0, MAX_BATCH),
        dropped: Object.fromEntries(this.#dropped),
      };
      this.#dropped = new Map();
      if (!this.#send(batch)) return;
    }
  }

  get sessionCount(): number {
    let n = 0;
    for (const list of this.#sessions.values()) n += list.length;
    return n;
  }

  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  #trace(o: RequestOutcome, withLogs: boolean): RequestTrace {
    return {
      script: o.script,
      version: o.version,
      pop: this.#options.pop,
      nodeId: this.#options.nodeId,
      timeMs: o.startedAt,
      method: o.method,
      url: o.url,
      status: o.status,
      cpuMs: o.cpuMs,
      wallMs: o.latencyMs,
      errorCode: o.errorCode ?? "",
      errorMessage: withLogs
        ? (o.errorMessage ?? "")
        : (o.errorMessage ?? "").slice(0, HISTORY_MESSAGE_CHARS),
      logs: withLogs ? o.logs.map((l) => ({ level: l.level, message: l.message, timeMs: l.time })) : [],
    };
  }
}
