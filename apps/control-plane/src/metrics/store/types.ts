import type { MetricsRow } from "../figures.js";

export interface RowQuery {
  /** One script, or every script. */
  script?: string;
  /** One PoP, or every PoP. */
  pop?: string;
  /** epoch ms; rows whose minute starts at or after the minute holding `since`. */
  since: number;
  /** epoch ms; rows whose minute starts at or before it. */
  until: number;
}

/**
 * Where the control plane keeps metrics history: 1-minute buckets per
 * (script, version, node), added to, never overwritten, so several
 * control-plane replicas can write the same bucket. A separate seam from the
 * script `Store` (metrics are high-volume, short-lived and need no revision);
 * it opens on the same EDGE_STORE: another table in the same SQLite file, or
 * other keys on the same Redis. One contract suite (`contract.ts`) runs
 * against both implementations.
 */
export interface MetricsStore {
  /** Adds every row's figures to its bucket (created when missing), all or nothing. */
  addRows(rows: readonly MetricsRow[]): Promise<void>;
  /** Buckets matching the query, in no particular order. */
  readRows(query: RowQuery): Promise<MetricsRow[]>;
  /** Deletes buckets whose minute starts before `before`; resolves with how many went. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}
