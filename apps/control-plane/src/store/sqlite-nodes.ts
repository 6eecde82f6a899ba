import type { Database } from "better-sqlite3";
import { decodeNodeStates, encodeNodeState } from "./codec.js";
import type { NodeState } from "./types.js";

export interface SqliteNodeStates {
  save(states: NodeState[]): void;
  list(): NodeState[];
  /** Removes states last seen before the cutoff; returns how many. */
  prune(lastSeenBefore: number): number;
}

/**
 * Node states in the `nodes` table, on a connection of their own (see
 * `createSqliteStore`): soft state, rewritten every few seconds.
 */
export function sqliteNodeStates(db: Database): SqliteNodeStates {
  // A replica that lost a node late must not overwrite what the replica now serving it saved.
  const upsert = db.prepare(
    `INSERT INTO nodes (id, state_json, last_seen_ms) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET state_json = excluded.state_json, last_seen_ms = excluded.last_seen_ms
     WHERE excluded.last_seen_ms >= nodes.last_seen_ms`,
  );
  const all = db.prepare<[], { state_json: string }>("SELECT state_json FROM nodes ORDER BY id");
  const prune = db.prepare<[number]>("DELETE FROM nodes WHERE last_seen_ms < ?");
  const save = db.transaction((states: NodeState[]) => {
    for (const state of states) upsert.run(state.id, encodeNodeState(state), state.lastSeenMs);
  });
  return {
    save: (states) => save.immediate(states),
    list: () => decodeNodeStates(all.all().map((row) => row.state_json)),
    prune: (lastSeenBefore) => prune.run(lastSeenBefore).changes,
  };
}
