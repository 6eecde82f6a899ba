import { randomUUID } from "node:crypto";
import type { NodeMessage, RequestTrace, TailFilter, TailSessions } from "@edge/protocol";
import type { Logger } from "pino";
import { EdgeError } from "../errors.js";
import type { NodeLink, NodeTelemetryHooks } from "../push/telemetry-hooks.js";
import { TailSession } from "./session.js";

export interface TailHubOptions {
  logger: Logger;
  /** Traces queued per session for its reader; more are dropped and counted. */
  bufferSize: number;
  maxSessions: number;
  /** How long a log history query waits for nodes to answer. */
  logsTimeoutMs: number;
}

export interface LogsQueryInput {
  sinceMs: number;
  limit: number;
  filter: TailFilter;
}

export interface LogsResult {
  /** Oldest first; only the newest `limit` when `truncated`. */
  traces: RequestTrace[];
  truncated: boolean;
  /** Node ids that answered, and those asked that did not answer in time. */
  answered: string[];
  missing: string[];
}

interface PendingQuery {
  waiting: Set<string>;
  answered: string[];
  traces: RequestTrace[];
  truncated: boolean;
  finish: () => void;
}

/**
 * The control plane's side of the live tail and the log history. It knows
 * every connected node's stream (through the push hub's telemetry hooks),
 * tells each node which sessions concern it whenever the set changes or the
 * node connects, routes the traces nodes ship to their sessions, and fans
 * history queries out to the nodes.
 */
export class TailHub implements Required<Pick<NodeTelemetryHooks, "opened" | "closed" | "message">> {
  readonly #options: TailHubOptions;
  readonly #log: Logger;
  readonly #links = new Map<string, NodeLink>();
  readonly #sessions = new Map<string, TailSession>();
  readonly #queries = new Map<string, PendingQuery>();
  #droppedTotal = 0;

  constructor(options: TailHubOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: "tail" });
  }

  opened(link: NodeLink): void {
    this.#links.set(link.id, link);
    link.send({ $case: "tailSessions", value: this.#sessionsFor(link.pop) });
  }

  closed(link: NodeLink): void {
    if (this.#links.get(link.id) !== link) return;
    this.#links.delete(link.id);
    for (const query of this.#queries.values()) {
      if (query.waiting.delete(link.id) && query.waiting.size === 0) query.finish();
    }
  }

  message(link: NodeLink, msg: NonNullable<NodeMessage["msg"]>): void {
    if (msg.$case === "tail") {
      for (const delivery of msg.value.deliveries) {
        if (!delivery.trace) continue;
        for (const id of delivery.sessionIds) this.#sessions.get(id)?.push(delivery.trace);
      }
      for (const [id, count] of Object.entries(msg.value.dropped)) this.#sessions.get(id)?.addDropped(count);
    } else if (msg.$case === "logsReply") {
      const query = this.#queries.get(msg.value.queryId);
      if (!query?.waiting.delete(link.id)) return;
      query.answered.push(link.id);
      query.traces.push(...msg.value.traces);
      query.truncated ||= msg.value.truncated;
      if (query.waiting.size === 0) query.finish();
    }
  }

  /** Opens a session and tells the nodes; 429 EDGE_TOO_MANY_TAILS past `maxSessions`. */
  open(script: string, filter: TailFilter): TailSession {
    if (this.#sessions.size >= this.#options.maxSessions) {
      throw new EdgeError(
        "EDGE_TOO_MANY_TAILS",
        `${this.#sessions.size} tail sessions are open, the most this control plane allows`,
      );
    }
    const session = new TailSession(randomUUID(), script, filter, this.#options.bufferSize, (n) => {
      this.#droppedTotal += n;
    });
    this.#sessions.set(session.id, session);
    this.#log.info({ session: session.id, script }, "tail opened");
    this.#broadcast();
    return session;
  }

  close(session: TailSession): void {
    if (!this.#sessions.delete(session.id)) return;
    session.close();
    this.#log.info({ session: session.id, script: session.script }, "tail closed");
    this.#broadcast();
  }

  /** Asks every connected node (of the filter's PoPs) for its recent requests of `script`. */
  queryLogs(script: string, input: LogsQueryInput): Promise<LogsResult> {
    const targets = [...this.#links.values()].filter(
      (link) => input.filter.pops.length === 0 || input.filter.pops.includes(link.pop),
    );
    const queryId = randomUUID();
    return new Promise((resolve) => {
      const query: PendingQuery = {
        waiting: new Set(targets.map((l) => l.id)),
        answered: [],
        traces: [],
        truncated: false,
        finish: () => {
          clearTimeout(timer);
          this.#queries.delete(queryId);
          const traces = query.traces.sort((a, b) => a.timeMs - b.timeMs);
          const over = traces.length > input.limit;
          resolve({
            traces: over ? traces.slice(traces.length - input.limit) : traces,
            truncated: query.truncated || over,
            answered: query.answered.sort(),
            missing: [...query.waiting].sort(),
          });
        },
      };
      const timer = setTimeout(query.finish, this.#options.logsTimeoutMs);
      this.#queries.set(queryId, query);
      for (const link of targets) {
        const sent = link.send({
          $case: "logsQuery",
          value: { queryId, script, sinceMs: input.sinceMs, limit: input.limit, filter: input.filter },
        });
        if (!sent) query.waiting.delete(link.id);
      }
      if (query.waiting.size === 0) query.finish();
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Ends every session (the control plane is stopping). */
  shutdown(): void {
    for (const session of [...this.#sessions.values()]) this.close(session);
    for (const query of [...this.#queries.values()]) query.finish();
  }

  /** The sessions a node of `pop` must know about: those without a PoP filter or naming its PoP. */
  #sessionsFor(pop: string): TailSessions {
    const sessions = [...this.#sessions.values()]
      .filter((s) => s.filter.pops.length === 0 || s.filter.pops.includes(pop))
      .map((s) => ({ id: s.id, script: s.script, filter: s.filter }));
    return { sessions };
  }

  #broadcast(): void {
    for (const link of this.#links.values()) {
      link.send({ $case: "tailSessions", value: this.#sessionsFor(link.pop) });
    }
  }
}

/** What the HTTP routes use of the hub. */
export type TailService = Pick<TailHub, "open" | "close" | "queryLogs">;
