import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { EdgeError, isEdgeError } from "../errors.js";
import { decodeVersion, encodePops, encodeVersion, isVersionNumber } from "./codec.js";
import { activeChanged } from "./conflict.js";
import { sqliteCron } from "./sqlite-cron.js";
import { sqliteEnrolments } from "./sqlite-enrolments.js";
import { groupCommit } from "./sqlite-group-commit.js";
import { sqliteKv } from "./sqlite-kv.js";
import { sqliteNodeStates } from "./sqlite-nodes.js";
import { type ScriptRow, toSnapshotRollout, toSummary, toVersion, toVersionMeta } from "./sqlite-rows.js";
import { prepareDatabase } from "./sqlite-schema.js";
import { prepareStatements } from "./sqlite-statements.js";
import { pollRevision } from "./sqlite-watch.js";
import type {
  NewVersion,
  PutOptions,
  RolloutTarget,
  ScriptSummary,
  ScriptVersion,
  Snapshot,
  SnapshotChanges,
  SnapshotRollout,
  Store,
} from "./types.js";

/**
 * The single-machine store: one SQLite file. better-sqlite3 is synchronous, so
 * every call finishes (and is fsynced) before its promise resolves; writes run
 * in IMMEDIATE transactions so even a second process on the same file cannot
 * interleave between reading the latest version number and writing the next.
 */

export function createSqliteStore(path: string): Store {
  if (path !== ":memory:" && path !== "") {
    mkdirSync(dirname(path), { recursive: true });
    ownerOnly(path);
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

  if (!memory) for (const suffix of ["-wal", "-shm"]) if (existsSync(path + suffix)) ownerOnly(path + suffix);

  const sql = prepareStatements(db);

  const readRevision = (): number => sql.revision.get()?.value ?? 0;

  // Every mutation moves the revision and stamps the script with it, in its transaction.
  const changed = (name: string): void => {
    sql.bumpRevision.run();
    sql.markChanged.run(name);
  };

  const liveScript = (name: string): ScriptRow | undefined => {
    const row = sql.script.get(name);
    return row && row.deleted === 0 ? row : undefined;
  };

  const nodes = sqliteNodeStates(nodeDb);
  const enrolments = sqliteEnrolments(db);

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
      changed(name);
      return decodeVersion(name, version, { ...encoded, createdAt: now });
    },
  );

  // Deploys arriving together share one commit (one fsync); see sqlite-group-commit.ts.
  const putGrouped = groupCommit(db, put, run);

  const activate = db.transaction((name: string, version: number, now: number): ScriptSummary | null => {
    if (!liveScript(name) || !sql.version.get(name, version)) return null;
    sql.activate.run(version, now, name);
    changed(name);
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
    changed(name);
    return toSummary(sql.script.get(name)!);
  });

  const finish = db.transaction(
    (name: string, outcome: "promote" | "abort", now: number): ScriptSummary | null => {
      const row = liveScript(name);
      if (row?.rollout_version == null) return null;
      if (outcome === "promote") sql.activate.run(row.rollout_version, now, name);
      else sql.clearRollout.run(now, name);
      changed(name);
      return toSummary(sql.script.get(name)!);
    },
  );

  const remove = db.transaction((name: string, now: number): boolean => {
    if (!liveScript(name)) return false;
    sql.deleteVersions.run(name);
    sql.markDeleted.run(now, name);
    changed(name);
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

  // The same read transaction for what changed: the names stamped after `since`, and their state.
  const changes = db.transaction((since: number): SnapshotChanges | null => {
    const revision = readRevision();
    if (since > revision) return null;
    const names = sql.changedSince.all(since).map((row) => row.name);
    const scripts: ScriptVersion[] = [];
    const rollouts: SnapshotRollout[] = [];
    for (const name of names) {
      const active = sql.active.get(name);
      if (active === undefined) continue;
      scripts.push(toVersion(active));
      const rolling = sql.rolloutOf.get(name);
      if (rolling !== undefined) rollouts.push(toSnapshotRollout(rolling));
    }
    return { revision, changed: names, scripts, rollouts };
  });

  const kv = sqliteKv(db, run);

  return {
    ...kv,
    ...sqliteCron(db, run),
    putVersion: (name, input, now = Date.now(), options = {}) => putGrouped(name, input, now, options),
    getActive: (name) => run(() => nullable(sql.active.get(name), toVersion)),
    getVersion: (name, version) =>
      run(() => (isVersionNumber(version) ? nullable(sql.version.get(name, version), toVersion) : null)),
    getSummary: (name) => run(() => nullable(liveScript(name), toSummary)),
    listScripts: (page) =>
      run(() =>
        (page === undefined
          ? sql.liveScripts.all()
          : sql.liveScriptsPage.all(page.after ?? "", page.limit ?? -1)
        ).map(toSummary),
      ),
    listVersions: (name) => run(() => sql.versionMetas.all(name).map(toVersionMeta)),
    setActive: (name, version, now = Date.now()) =>
      run(() => (isVersionNumber(version) ? activate.immediate(name, version, now) : null)),
    startRollout: (name, target, now = Date.now()) =>
      run(() => (isVersionNumber(target.version) ? rollout.immediate(name, target, now) : null)),
    finishRollout: (name, outcome, now = Date.now()) => run(() => finish.immediate(name, outcome, now)),
    deleteScript: (name) => run(() => remove.immediate(name, Date.now())),
    snapshot: () => run(() => snapshot.deferred()),
    changesSince: (revision) => run(() => changes.deferred(revision)),
    revision: () => run(readRevision),
    watch: (handlers) => pollRevision(readRevision, handlers),
    saveNodeStates: (states) => run(() => nodes.save(states)),
    listNodeStates: () => run(() => nodes.list()),
    pruneNodeStates: (lastSeenBefore) => run(() => nodes.prune(lastSeenBefore)),
    createEnrolment: (enrolment) => run(() => enrolments.create(enrolment)),
    getEnrolment: (nodeId) => run(() => enrolments.get(nodeId)),
    listEnrolments: () => run(() => enrolments.list()),
    deleteEnrolment: (nodeId) => run(() => enrolments.delete(nodeId)),
    ping: () => run(() => void db.prepare("SELECT 1").get()),
    close: async () => {
      if (nodeDb.open) nodeDb.close();
      if (db.open) db.close();
    },
  };
}

/**
 * The store holds sealed secrets and node enrolments: its file is created
 * 0600 (and an existing one made so). SQLite gives its -wal and -shm files the
 * database file's permissions; they are set explicitly as well when present.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
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
