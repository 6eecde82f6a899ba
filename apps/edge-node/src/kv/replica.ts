import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KvListPage, KvValue, KvWriteMutation } from "@edge/isolate-host";
import type { KvSync } from "@edge/protocol";
import Database from "better-sqlite3";

/**
 * This PoP's copy of every Workers KV namespace, in one SQLite file
 * (`<EDGE_CACHE_DIR>/kv.db`), so reads are local and survive a restart with
 * the control plane down. Each namespace row holds the version up to which
 * this replica has every write; each entry the version of its key's last
 * write, so applying anything twice, or out of order, keeps the newest.
 * Deleted keys keep a tombstone row until a newer write replaces it.
 */

interface EntryRow {
  key: string;
  value: Buffer;
  metadata: string | null;
  expiration: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS namespaces (id TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS entries (
  ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, metadata TEXT, expiration INTEGER,
  version INTEGER NOT NULL, deleted INTEGER NOT NULL, PRIMARY KEY (ns, key)
) STRICT;
CREATE INDEX IF NOT EXISTS entries_by_expiration ON entries (expiration) WHERE expiration IS NOT NULL;
`;

export interface ReplicaEntry {
  key: string;
  version: number;
  deleted: boolean;
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
}

export class KvReplica {
  readonly #db: Database.Database;
  readonly #sql;
  readonly #apply;
  readonly #drop;

  /** Opens (or creates) the replica in `dir`; ":memory:" keeps it in memory (tests). */
  constructor(dir: string) {
    const memory = dir === ":memory:";
    if (!memory) mkdirSync(dir, { recursive: true });
    this.#db = new Database(memory ? ":memory:" : join(dir, "kv.db"));
    this.#db.pragma("journal_mode = WAL");
    // A lost tail of writes is refetched from the control plane after a crash (the namespace
    // version is written in the same transaction as its entries), so no fsync per sync.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#sql = {
      versions: db.prepare<[], { id: string; version: number }>("SELECT id, version FROM namespaces"),
      setVersion: db.prepare(
        `INSERT INTO namespaces (id, version) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET version = max(version, excluded.version)`,
      ),
      upsert: db.prepare(
        `INSERT INTO entries (ns, key, value, metadata, expiration, version, deleted)
         VALUES (@ns, @key, @value, @metadata, @expiration, @version, @deleted)
         ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata,
           expiration = excluded.expiration, version = excluded.version, deleted = excluded.deleted
         WHERE excluded.version > entries.version`,
      ),
      read: db.prepare<[string, string, number], EntryRow>(
        `SELECT key, value, metadata, expiration FROM entries WHERE ns = ? AND key = ? AND deleted = 0
         AND (expiration IS NULL OR expiration > ?)`,
      ),
      list: db.prepare<[string, string, number, string, string, number], EntryRow>(
        `SELECT key, metadata, expiration FROM entries
         WHERE ns = ? AND key > ? AND deleted = 0 AND (expiration IS NULL OR expiration > ?)
           AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?`,
      ),
      count: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM entries WHERE deleted = 0"),
      dropEntries: db.prepare("DELETE FROM entries WHERE ns = ?"),
      dropNamespace: db.prepare("DELETE FROM namespaces WHERE id = ?"),
      purge: db.prepare("DELETE FROM entries WHERE expiration IS NOT NULL AND expiration <= ?"),
    };
    this.#apply = db.transaction((ns: string, entries: ReplicaEntry[], version: number) => {
      for (const e of entries) this.#upsert(ns, e);
      this.#sql.setVersion.run(ns, version);
    });
    this.#drop = db.transaction((ids: string[]) => {
      for (const id of ids) {
        this.#sql.dropEntries.run(id);
        this.#sql.dropNamespace.run(id);
      }
    });
  }

  /** Namespace id -> the version this replica holds every write up to (what a subscribe sends). */
  versions(): Record<string, number> {
    return Object.fromEntries(this.#sql.versions.all().map((row) => [row.id, row.version]));
  }

  /** Applies a sync from the control plane: each namespace's entries and its new version, atomically. */
  applySync(sync: KvSync): void {
    if (sync.removedNamespaces.length > 0) this.#drop(sync.removedNamespaces);
    for (const delta of sync.namespaces) {
      const entries = delta.entries.map(
        (e): ReplicaEntry => ({
          key: e.key,
          version: Number(e.version),
          deleted: e.deleted,
          value: e.value,
          metadata: e.metadata ?? null,
          expiration: Number(e.expiration) > 0 ? Number(e.expiration) : null,
        }),
      );
      this.#apply(delta.namespaceId, entries, Number(delta.version));
    }
  }

  /** A write of this PoP, acknowledged by the control plane with these versions: readable here at once. */
  applyOwnWrite(ns: string, mutations: KvWriteMutation[], versions: number[]): void {
    const entries = mutations.map(
      (m, i): ReplicaEntry => ({
        key: m.key,
        version: versions[i] ?? 0,
        deleted: m.delete === true,
        value: m.delete === true ? new Uint8Array(0) : m.value,
        metadata: m.delete === true ? null : m.metadata,
        expiration: m.delete === true ? null : m.expiration,
      }),
    );
    // Entries only: the namespace version still says what arrived in order from the control plane.
    this.#db.transaction(() => {
      for (const e of entries) this.#upsert(ns, e);
    })();
  }

  get(ns: string, key: string, nowMs = Date.now()): KvValue | null {
    const row = this.#sql.read.get(ns, key, Math.floor(nowMs / 1000));
    if (row === undefined) return null;
    // A copy the caller owns (not a view of a pooled buffer).
    return { value: new Uint8Array(row.value), metadata: row.metadata, expiration: row.expiration };
  }

  list(
    ns: string,
    options: { prefix: string; limit: number; cursor: string | null },
    nowMs = Date.now(),
  ): KvListPage {
    const after = options.cursor === null ? "" : decodeCursor(options.cursor);
    const rows = this.#sql.list.all(
      ns,
      after,
      Math.floor(nowMs / 1000),
      options.prefix,
      options.prefix,
      options.limit + 1,
    );
    const page = rows.slice(0, options.limit);
    return {
      keys: page.map((r) => ({ name: r.key, expiration: r.expiration, metadata: r.metadata })),
      cursor: rows.length > options.limit ? encodeCursor(page[page.length - 1]!.key) : null,
    };
  }

  /** Live keys held, over all namespaces. */
  size(): number {
    return this.#sql.count.get()?.n ?? 0;
  }

  purgeExpired(nowMs = Date.now()): number {
    return this.#sql.purge.run(Math.floor(nowMs / 1000)).changes;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #upsert(ns: string, e: ReplicaEntry): void {
    this.#sql.upsert.run({
      ns,
      key: e.key,
      value: Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength),
      metadata: e.metadata,
      expiration: e.expiration,
      version: e.version,
      deleted: e.deleted ? 1 : 0,
    });
  }
}

/** Cursors are the last key of a page (base64url), the same as the control plane's. */
function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  return /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
}
