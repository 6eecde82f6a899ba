import type { Database } from "better-sqlite3";
import { EdgeError } from "../errors.js";

/**
 * The SQLite layout. `scripts` keeps a row after a delete (deleted = 1,
 * active_version NULL) so `latest_version` keeps counting and a re-created
 * script never reuses a version number. `meta.revision` is the store-wide
 * change counter. Schema 2 adds a script's gradual rollout (`rollout_*`, NULL
 * when none) and `nodes`, the node states replicas share. Schema 3 adds a
 * version's sealed secrets and, for a TypeScript deploy, its original source.
 * Schema 4 adds `enrolments`, the nodes allowed to connect (token hashes).
 * Schema 5 adds a multi-module version's modules (JSON, NULL for one module).
 * Schema 6 adds a version's bindings and Workers KV (`sqlite-kv.ts`).
 * Schema 7 adds a version's Cron Triggers and `cron_claims`, the ticks a
 * replica has claimed (one run per script, cron and tick across replicas).
 * Schema 8 adds `scripts.changed_revision`, the revision of the last change to
 * a script's desired state (0: before schema 8), so `changesSince` reads only
 * what changed.
 */
const SCHEMA_VERSION = 8;

const SCHEMA_1 = `
CREATE TABLE IF NOT EXISTS scripts (
  name TEXT PRIMARY KEY,
  active_version INTEGER,
  latest_version INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  vars_json TEXT NOT NULL,
  limits_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;

CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0);
`;

const SCHEMA_2 = `
ALTER TABLE scripts ADD COLUMN rollout_version INTEGER;
ALTER TABLE scripts ADD COLUMN rollout_percent INTEGER;
ALTER TABLE scripts ADD COLUMN rollout_pops TEXT;
ALTER TABLE scripts ADD COLUMN rollout_started_at INTEGER;

CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY,
  state_json TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL
) STRICT;
`;

const SCHEMA_3 = `
ALTER TABLE versions ADD COLUMN secrets_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE versions ADD COLUMN ts_source TEXT;
`;

const SCHEMA_4 = `
CREATE TABLE IF NOT EXISTS enrolments (
  node_id TEXT PRIMARY KEY,
  enrolment_json TEXT NOT NULL
) STRICT;
`;

const SCHEMA_5 = `
ALTER TABLE versions ADD COLUMN modules_json TEXT;
`;

const SCHEMA_6 = `
ALTER TABLE versions ADD COLUMN bindings_json TEXT NOT NULL DEFAULT '{}';

CREATE TABLE IF NOT EXISTS kv_namespaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS kv_entries (
  ns TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  metadata TEXT,
  expiration INTEGER,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (ns, key)
) STRICT;

CREATE INDEX IF NOT EXISTS kv_entries_by_version ON kv_entries (ns, version);
CREATE INDEX IF NOT EXISTS kv_entries_by_expiration ON kv_entries (expiration) WHERE expiration IS NOT NULL;
`;

const SCHEMA_7 = `
ALTER TABLE versions ADD COLUMN crons_json TEXT NOT NULL DEFAULT '[]';

CREATE TABLE IF NOT EXISTS cron_claims (
  name TEXT NOT NULL,
  cron TEXT NOT NULL,
  tick INTEGER NOT NULL,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (name, cron, tick)
) STRICT;

CREATE INDEX IF NOT EXISTS cron_claims_by_expiry ON cron_claims (expires_at);
`;

const SCHEMA_8 = `
ALTER TABLE scripts ADD COLUMN changed_revision INTEGER NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS scripts_by_change ON scripts (changed_revision);
`;

/** Migrations by the schema version they lead to; a file at version n runs those above n, in order. */
const MIGRATIONS: ReadonlyArray<readonly [number, string]> = [
  [1, SCHEMA_1],
  [2, SCHEMA_2],
  [3, SCHEMA_3],
  [4, SCHEMA_4],
  [5, SCHEMA_5],
  [6, SCHEMA_6],
  [7, SCHEMA_7],
  [8, SCHEMA_8],
];

/** Opens the connection the way durability needs it and creates the tables once. */
export function prepareDatabase(db: Database): void {
  // WAL lets readers run beside the writer; FULL fsyncs the WAL on every commit,
  // so a write the API acknowledged survives a crash or power loss.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // Another process (a second control plane on the same file) waits for the write lock instead of failing.
  db.pragma("busy_timeout = 5000");

  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new EdgeError(
      "EDGE_STORE_UNAVAILABLE",
      `The SQLite store was written by a newer version (schema ${current} > ${SCHEMA_VERSION})`,
    );
  }
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated meanwhile.
    const at = db.pragma("user_version", { simple: true }) as number;
    for (const [version, sql] of MIGRATIONS) if (version > at) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
