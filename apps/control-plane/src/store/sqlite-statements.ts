import type { Database, Statement } from "better-sqlite3";
import type { RolloutRow, ScriptRow, VersionMetaRow, VersionRow } from "./sqlite-rows.js";

const VERSION_COLUMNS =
  "v.name, v.version, v.sha256, v.source, v.ts_source, v.modules_json, v.vars_json, v.secrets_json, v.limits_json, v.bindings_json, v.crons_json, v.created_at";

/** The SQLite store's statements, prepared once per connection. */
export interface SqliteStatements {
  script: Statement<[string], ScriptRow>;
  liveScripts: Statement<[], ScriptRow>;
  liveScriptsPage: Statement<[string, number], ScriptRow>;
  version: Statement<[string, number], VersionRow>;
  versionMetas: Statement<[string], VersionMetaRow>;
  active: Statement<[string], VersionRow>;
  allActive: Statement<[], VersionRow>;
  insertVersion: Statement;
  upsertScript: Statement;
  activate: Statement;
  addInactive: Statement;
  startRollout: Statement;
  clearRollout: Statement;
  rollouts: Statement<[], RolloutRow>;
  rolloutOf: Statement<[string], RolloutRow>;
  changedSince: Statement<[number], { name: string }>;
  deleteVersions: Statement;
  markDeleted: Statement;
  revision: Statement<[], { value: number }>;
  bumpRevision: Statement;
  markChanged: Statement;
}

export function prepareStatements(db: Database): SqliteStatements {
  return {
    script: db.prepare<[string], ScriptRow>("SELECT * FROM scripts WHERE name = ?"),
    liveScripts: db.prepare<[], ScriptRow>("SELECT * FROM scripts WHERE deleted = 0 ORDER BY name"),
    liveScriptsPage: db.prepare<[string, number], ScriptRow>(
      "SELECT * FROM scripts WHERE deleted = 0 AND name > ? ORDER BY name LIMIT ?",
    ),
    version: db.prepare<[string, number], VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.name = ? AND v.version = ?`,
    ),
    versionMetas: db.prepare<[string], VersionMetaRow>(
      "SELECT name, version, sha256, vars_json, secrets_json, limits_json, bindings_json, created_at FROM versions WHERE name = ? ORDER BY version DESC",
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
      `INSERT INTO versions (name, version, sha256, source, ts_source, modules_json, vars_json, secrets_json, limits_json, bindings_json, crons_json, created_at)
       VALUES (@name, @version, @sha256, @source, @tsSource, @modulesJson, @varsJson, @secretsJson, @limitsJson, @bindingsJson, @cronsJson, @now)`,
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
    rolloutOf: db.prepare<[string], RolloutRow>(
      `SELECT ${VERSION_COLUMNS}, s.rollout_percent, s.rollout_pops, s.rollout_started_at
       FROM scripts s JOIN versions v ON v.name = s.name AND v.version = s.rollout_version
       WHERE s.name = ? AND s.deleted = 0 AND s.rollout_version IS NOT NULL`,
    ),
    changedSince: db.prepare<[number], { name: string }>(
      "SELECT name FROM scripts WHERE changed_revision > ? ORDER BY name",
    ),
    deleteVersions: db.prepare("DELETE FROM versions WHERE name = ?"),
    markDeleted: db.prepare(
      `UPDATE scripts SET deleted = 1, active_version = NULL, rollout_version = NULL, rollout_percent = NULL,
         rollout_pops = NULL, rollout_started_at = NULL, updated_at = ? WHERE name = ?`,
    ),
    revision: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'revision'"),
    bumpRevision: db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'revision'"),
    markChanged: db.prepare(
      "UPDATE scripts SET changed_revision = (SELECT value FROM meta WHERE key = 'revision') WHERE name = ?",
    ),
  };
}
