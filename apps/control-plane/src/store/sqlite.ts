import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { EdgeError, isEdgeError } from "../errors.js";
import {
  decodeLimits,
  decodePops,
  decodeSecrets,
  decodeVars,
  decodeVersion,
  encodePops,
  encodeVersion,
  isVersionNumber,
} from "./codec.js";
import { activeChanged } from "./conflict.js";
import { sqliteNodeStates } from "./sqlite-nodes.js";
import { prepareDatabase } from "./sqlite-schema.js";
import { pollRevision } from "./sqlite-watch.js";
import type {
  NewVersion,
  PutOptions,
  RolloutTarget,
  ScriptRollout,
  ScriptSummary,
  ScriptVersion,
  Snapshot,
  SnapshotRollout,
  Store,
  VersionMeta,
} from "./types.js";

/**
 * The single-machine store: one SQLite file. better-sqlite3 is synchronous, so
 * every call finishes (and is fsynced) before its promise resolves; writes run
 * in IMMEDIATE transactions so even a second process on the same file cannot
 * interleave between reading the latest version number and writing the next.
 */

interface ScriptRow {
  name: string;
  active_version: number | null;
  latest_version: number;
  deleted: number;
  created_at: number;
  updated_at: number;
  rollout_version: number | null;
  rollout_percent: number | null;
  rollout_pops: string | null;
  rollout_started_at: number | null;
}

interface VersionRow {
  name: string;
  version: number;
  sha256: string;
  source: string;
  ts_source: string | null;
  vars_json: string;
  secrets_json: string;
  limits_json: string;
  created_at: number;
}

type VersionMetaRow = Omit<VersionRow, "source" | "ts_source">;

/** The version a rollout targets, with the rollout's settings. */
interface RolloutRow extends VersionRow {
  rollout_percent: number | null;
  rollout_pops: string | null;
  rollout_started_at: number;
}

const VERSION_COLUMNS =
  "v.name, v.version, v.sha256, v.source, v.ts_source, v.vars_json, v.secrets_json, v.limits_json, v.created_at";

export function createSqliteStore(path: string): Store {
  if (path !== ":memory:" && path !== "") {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path);
  try {
    prepareDatabase(db);
  } catch (error) {
    db.close();
    throw error;
  }
  // Node states are soft state, rewritten every few seconds: a connection of their own that
  // skips fsync keeps them from costing the event loop a disk flush each time.
  const memory = path === ":memory:" || path === "";
  const nodeDb = memory ? db : new Database(path);
  if (!memory) {
    nodeDb.pragma("synchronous = OFF");
    nodeDb.pragma("busy_timeout = 5000");
  }

  const sql = {
    script: db.prepare<[string], ScriptRow>("SELECT * FROM scripts WHERE name = ?"),
    liveScripts: db.prepare<[], ScriptRow>("SELECT * FROM scripts WHERE deleted = 0 ORDER BY name"),
    version: db.prepare<[string, number], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.name = ? AND v.version = ?`,
    ),
    versionMetas: db.prepare<[string], VersionMetaRow>(
      "SELECT name, version, sha256, vars_json, secrets_json, limits_json, created_at FROM versions WHERE name = ? ORDER BY version DESC",
    ),
    active: db.prepare<[string], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM scripts s JOIN versions v ON v.name = s.name AND v.version = s.active_version
       WHERE s.name = ? AND s.deleted = 0`,
    ),
    allActive: db.prepare<[], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM scripts s JOIN versions v ON v.name = s.name AND v.version = s.active_version
       WHERE s.deleted = 0 ORDER BY s.name`,
    ),
    insertVersion: db.prepare(
      `INSERT INTO versions (name, version, sha256, source, ts_source, vars_json, secrets_json, limits_json, created_at)
       VALUES (@name, @version, @sha256, @source, @tsSource, @varsJson, @secretsJson, @limitsJson, @now)`,
    ),
    // A put on a deleted script starts a new life: its createdAt restarts, its counter does not.
    upsertScript: db.prepare(
      `INSERT INTO scripts (name, active_version, latest_version, deleted, created_at, updated_at)
       VALUES (@name, @version, @version, 0, @now, @now)
       ON CONFLICT (name) DO UPDATE SET
         active_version = excluded.active_version,
         latest_version = excluded.latest_version,
         created_at = CASE WHEN scripts.deleted = 1 THEN excluded.created_at ELSE scripts.created_at END,
         deleted = 0,
         updated_at = excluded.updated_at`,
    ),
    // Activating a version ends any rollout: what runs is decided again from scratch.
    activate: db.prepare(
      `UPDATE scripts SET active_version = ?, updated_at = ?, rollout_version = NULL, rollout_percent = NULL,
         rollout_pops = NULL, rollout_started_at = NULL WHERE name = ?`,
    ),
    // A version stored without activation: only the counter moves (the first version is always activated).
    addInactive: db.prepare("UPDATE scripts SET latest_version = ?, updated_at = ? WHERE name = ?"),
    startRollout: db.prepare(
      `UPDATE scripts SET rollout_version = @version, rollout_percent = @percent, rollout_pops = @pops,
         rollout_started_at = @now, updated_at = @now WHERE name = @name`,
    ),
    clearRollout: db.prepare(
      `UPDATE scripts SET rollout_version = NULL, rollout_percent = NULL, rollout_pops = NULL,
         rollout_started_at = NULL, updated_at = ? WHERE name = ?`,
    ),
    rollouts: db.prepare<[], RolloutRow>(
      `SELECT ${VERSION_COLUMNS}, s.rollout_percent, s.rollout_pops, s.rollout_started_at
       FROM scripts s JOIN versions v ON v.name = s.name AND v.version = s.rollout_version
       WHERE s.deleted = 0 AND s.rollout_version IS NOT NULL ORDER BY s.name`,
    ),
    deleteVersions: db.prepare("DELETE FROM versions WHERE name = ?"),
    markDeleted: db.prepare(
      `UPDATE scripts SET deleted = 1, active_version = NULL, rollout_version = NULL, rollout_percent = NULL,
         rollout_pops = NULL, rollout_started_at = NULL, updated_at = ? WHERE name = ?`,
    ),
    revision: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'revision'"),
    bumpRevision: db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'revision'"),
  };

  const readRevision = (): number => sql.revision.get()?.value ?? 0;

  const liveScript = (name: string): ScriptRow | undefined => {
    const row = sql.script.get(name);
    return row && row.deleted === 0 ? row : undefined;
  };

  const nodes = sqliteNodeStates(nodeDb);

  const put = db.transaction(
    (name: string, input: NewVersion, now: number, options: PutOptions): ScriptVersion => {
      const existing = sql.script.get(name);
      if (options.ifActive !== undefined) {
        // Under the write lock (IMMEDIATE): no other writer can move the active version before the insert.
        const active = existing?.deleted === 0 ? existing.active_version : null;
        if (active !== options.ifActive) throw activeChanged(name, options.ifActive, active);
      }
      const version = (existing?.latest_version ?? 0) + 1;
      const encoded = encodeVersion(input);
      sql.insertVersion.run({ name, version, now, ...encoded });
      if (options.activate !== false || !existing || existing.deleted === 1) {
        sql.upsertScript.run({ name, version, now });
        sql.clearRollout.run(now, name);
      } else {
        sql.addInactive.run(version, now, name);
      }
      sql.bumpRevision.run();
      return decodeVersion(name, version, { ...encoded, createdAt: now });
    },
  );

  const activate = db.transaction((name: string, version: number, now: number): ScriptSummary | null => {
    if (!liveScript(name) || !sql.version.get(name, version)) return null;
    sql.activate.run(version, now, name);
    sql.bumpRevision.run();
    return toSummary(sql.script.get(name)!);
  });

  const rollout = db.transaction((name: string, target: RolloutTarget, now: number): ScriptSummary | null => {
    if (!liveScript(name) || !sql.version.get(name, target.version)) return null;
    sql.startRollout.run({
      name,
      version: target.version,
      percent: "percent" in target ? target.percent : null,
      pops: "pops" in target ? encodePops(target.pops) : null,
      now,
    });
    sql.bumpRevision.run();
    return toSummary(sql.script.get(name)!);
  });

  const finish = db.transaction(
    (name: string, outcome: "promote" | "abort", now: number): ScriptSummary | null => {
      const row = liveScript(name);
      if (row?.rollout_version == null) return null;
      if (outcome === "promote") sql.activate.run(row.rollout_version, now, name);
      else sql.clearRollout.run(now, name);
      sql.bumpRevision.run();
      return toSummary(sql.script.get(name)!);
    },
  );

  const remove = db.transaction((name: string, now: number): boolean => {
    if (!liveScript(name)) return false;
    sql.deleteVersions.run(name);
    sql.markDeleted.run(now, name);
    sql.bumpRevision.run();
    return true;
  });

  // One read transaction so the revision and the scripts describe the same moment.
  const snapshot = db.transaction(
    (): Snapshot => ({
      revision: readRevision(),
      scripts: sql.allActive.all().map(toVersion),
      rollouts: sql.rollouts.all().map(toSnapshotRollout),
    }),
  );

  return {
    putVersion: (name, input, now = Date.now(), options = {}) =>
      run(() => put.immediate(name, input, now, options)),
    getActive: (name) => run(() => nullable(sql.active.get(name), toVersion)),
    getVersion: (name, version) =>
      run(() => (isVersionNumber(version) ? nullable(sql.version.get(name, version), toVersion) : null)),
    getSummary: (name) => run(() => nullable(liveScript(name), toSummary)),
    listScripts: () => run(() => sql.liveScripts.all().map(toSummary)),
    listVersions: (name) => run(() => sql.versionMetas.all(name).map(toVersionMeta)),
    setActive: (name, version, now = Date.now()) =>
      run(() => (isVersionNumber(version) ? activate.immediate(name, version, now) : null)),
    startRollout: (name, target, now = Date.now()) =>
      run(() => (isVersionNumber(target.version) ? rollout.immediate(name, target, now) : null)),
    finishRollout: (name, outcome, now = Date.now()) => run(() => finish.immediate(name, outcome, now)),
    deleteScript: (name) => run(() => remove.immediate(name, Date.now())),
    snapshot: () => run(() => snapshot.deferred()),
    revision: () => run(readRevision),
    watch: (handlers) => pollRevision(readRevision, handlers),
    saveNodeStates: (states) => run(() => nodes.save(states)),
    listNodeStates: () => run(() => nodes.list()),
    pruneNodeStates: (lastSeenBefore) => run(() => nodes.prune(lastSeenBefore)),
    ping: () => run(() => void db.prepare("SELECT 1").get()),
    close: async () => {
      if (nodeDb.open) nodeDb.close();
      if (db.open) db.close();
    },
  };
}

/**
 * Runs a synchronous database call behind the async interface. SQLite failures
 * (disk full, I/O error, a lock held too long) become EDGE_STORE_UNAVAILABLE.
 */
async function run<T>(fn: () => T): Promise<T> {
  try {
    return fn();
  } catch (error) {
    if (isEdgeError(error)) throw error;
    throw new EdgeError("EDGE_STORE_UNAVAILABLE", `SQLite store: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function nullable<R, T>(row: R | undefined, convert: (row: R) => T): T | null {
  return row === undefined ? null : convert(row);
}

function toVersion(row: VersionRow): ScriptVersion {
  return decodeVersion(row.name, row.version, {
    sha256: row.sha256,
    source: row.source,
    tsSource: row.ts_source,
    varsJson: row.vars_json,
    secretsJson: row.secrets_json,
    limitsJson: row.limits_json,
    createdAt: row.created_at,
  });
}

function toVersionMeta(row: VersionMetaRow): VersionMeta {
  const where = `${row.name}@${row.version}`;
  return {
    name: row.name,
    version: row.version,
    sha256: row.sha256,
    vars: decodeVars(row.vars_json, where),
    secrets: decodeSecrets(row.secrets_json, where),
    limits: decodeLimits(row.limits_json, where),
    createdAt: row.created_at,
  };
}

function toSummary(row: ScriptRow): ScriptSummary {
  return {
    name: row.name,
    activeVersion: row.active_version ?? 0,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    rollout: toRollout(row),
  };
}

function toRollout(row: ScriptRow): ScriptRollout | null {
  if (row.rollout_version === null) return null;
  return {
    version: row.rollout_version,
    percent: row.rollout_percent,
    pops: row.rollout_pops === null ? null : decodePops(row.rollout_pops, row.name),
    startedAt: row.rollout_started_at ?? row.updated_at,
  };
}

function toSnapshotRollout(row: RolloutRow): SnapshotRollout {
  return {
    name: row.name,
    target: toVersion(row),
    percent: row.rollout_percent,
    pops: row.rollout_pops === null ? null : decodePops(row.rollout_pops, row.name),
    startedAt: row.rollout_started_at,
  };
}
