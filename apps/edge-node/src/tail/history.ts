import type { LogsReply, RequestTrace } from "@edge/protocol";
import type { RequestPredicate } from "./filter.js";

export interface LogHistoryOptions {
  /** Summaries kept per script. */
  maxPerScript: number;
  /** Summaries older than this are never answered and are dropped. */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * The node's recent request summaries (and errors) per script, whether or not
 * anybody is tailing, so `GET /v1/scripts/:name/logs` can show what happened
 * before a tail was opened. Bounded by count per script and by age; console
 * lines are not kept (only the live tail carries them).
 */
export class LogHistory {
  readonly #rings = new Map<string, RequestTrace[]>();
  readonly #options: LogHistoryOptions;
  readonly #now: () => number;

  constructor(options: LogHistoryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  add(trace: RequestTrace): void {
    if (this.#options.maxPerScript <= 0) return;
    let ring = this.#rings.get(trace.script);
    if (!ring) {
      ring = [];
      this.#rings.set(trace.script, ring);
    }
    ring.push(trace);
    // Arrays shift in O(n), but n is bounded and small; this keeps the order simple to read.
    if (ring.length > this.#options.maxPerScript) ring.shift();
    const cutoff = this.#now() - this.#options.maxAgeMs;
    while (ring.length > 0 && (ring[0] as RequestTrace).timeMs < cutoff) ring.shift();
  }

  /** Matching summaries since `sinceMs`, oldest first; only the newest `limit` when there are more. */
  query(
    queryId: string,
    script: string,
    sinceMs: number,
    limit: number,
    matches: RequestPredicate,
  ): LogsReply {
    const cutoff = Math.max(sinceMs, this.#now() - this.#options.maxAgeMs);
    const found = (this.#rings.get(script) ?? []).filter(
      (t) => t.timeMs >= cutoff && matches({ ...t, errorCode: t.errorCode || null }),
    );
    const truncated = limit > 0 && found.length > limit;
    return { queryId, traces: truncated ? found.slice(found.length - limit) : found, truncated };
  }
}
