import { randomBytes } from "node:crypto";
import type { Database } from "better-sqlite3";
import { EdgeError } from "../errors.js";
import {
  decodeKvCursor,
  encodeKvCursor,
  type KvChange,
  type KvChanges,
  type KvEntry,
  type KvMutation,
  type KvNamespace,
  type KvStore,
} from "./kv-types.js";

/**
 * Workers KV on the SQLite store (tables from schema 4, `sqlite-schema.ts`):
 * `kv_namespaces` (id, name, created_at, version) and `kv_entries`, one row
 * per key with the version of its last write; a delete keeps the row as a
 * tombstone (`deleted = 1`) so nodes catching up learn of it.
 */

interface NamespaceRow {
  id: string;
  name: string;
  created_at: number;
  version: number;
}

interface EntryRow {
  key: string;
  value: Buffer;
  metadata: string | null;
  expiration: number | null;
  version: number;
  deleted: number;
}

const toNamespace = (row: NamespaceRow): KvNamespace => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  version: row.version,
});

const toChange = (row: EntryRow): KvChange => ({
  key: row.key,
  version: row.version,
  deleted: row.deleted === 1,
  value: new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength),
  metadata: row.metadata,
  expiration: row.expiration,
});

export function exists(name: string): EdgeError {
  return new EdgeError("EDGE_KV_NAMESPACE_EXISTS", `A KV namespace named '${name}' exists`);
}

export function sqliteKv(db: Database, run: <T>(fn: () => T) => Promise<T>): KvStore {
  const sql = {
    byName: db.prepare<[string], NamespaceRow>("SELECT * FROM kv_namespaces WHERE name = ?"),
    byId: db.prepare<[string], NamespaceRow>("SELECT * FROM kv_namespaces WHERE id = ?"),
    all: db.prepare<[], NamespaceRow>("SELECT * FROM kv_namespaces ORDER BY name"),
    insert: db.prepare("INSERT INTO kv_namespaces (id, name, created_at, version) VALUES (?, ?, ?, 0)"),
    rename: db.prepare("UPDATE kv_namespaces SET name = ? WHERE id = ?"),
    dropNamespace: db.prepare("DELETE FROM kv_namespaces WHERE id = ?"),
    dropEntries: db.prepare("DELETE FROM kv_entries WHERE ns = ?"),
    bump: db.prepare<[string], { version: number }>(
      "UPDATE kv_namespaces SET version = version + 1 WHERE id = ? RETURNING version",
    ),
    upsert: db.prepare(
      `INSERT INTO kv_entries (ns, key, value, metadata, expiration, version, deleted)
       VALUES (@ns, @key, @value, @metadata, @expiration, @version, @deleted)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata,
         expiration = excluded.expiration, version = excluded.version, deleted = excluded.deleted`,
    ),
    read: db.prepare<[string, string, number], EntryRow>(
      `SELECT * FROM kv_entries WHERE ns = ? AND key = ? AND deleted = 0
       AND (expiration IS NULL OR expiration > ?)`,
    ),
    list: db.prepare<[string, string, number, string, string, number], EntryRow>(
      `SELECT key, metadata, expiration FROM kv_entries
       WHERE ns = ? AND key > ? AND deleted = 0 AND (expiration IS NULL OR expiration > ?)
         AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?`,
    ),
    // Sizes first, values only for the rows that fit the budget: values may be 25 MiB each.
    changeSizes: db.prepare<[string, number, number], { key: string; size: number }>(
      `SELECT key, length(value) + length(key) + coalesce(length(metadata), 0) AS size FROM kv_entries
       WHERE ns = ? AND version > ? AND (deleted = 0 OR ? > 0) ORDER BY version LIMIT 1000`,
    ),
    entry: db.prepare<[string, string], EntryRow>("SELECT * FROM kv_entries WHERE ns = ? AND key = ?"),
    purge: db.prepare("DELETE FROM kv_entries WHERE expiration IS NOT NULL AND expiration <= ?"),
  };

  const create = db.transaction((name: string, now: number): KvNamespace => {
    if (sql.byName.get(name)) throw exists(name);
    const id = randomBytes(16).toString("hex");
    sql.insert.run(id, name, now);
    return { id, name, createdAt: now, version: 0 };
  });

  const rename = db.transaction((name: string, newName: string): KvNamespace | null => {
    const row = sql.byName.get(name);
    if (!row) return null;
    if (newName !== name && sql.byName.get(newName)) throw exists(newName);
    sql.rename.run(newName, row.id);
    return { ...toNamespace(row), name: newName };
  });

  const remove = db.transaction((name: string): boolean => {
    const row = sql.byName.get(name);
    if (!row) return false;
    sql.dropEntries.run(row.id);
    sql.dropNamespace.run(row.id);
    return true;
  });

  const write = db.transaction((ns: string, mutations: KvMutation[]): number[] | null => {
    if (!sql.byId.get(ns)) return null;
    return mutations.map((m) => {
      const version = sql.bump.get(ns)!.version;
      sql.upsert.run(
        m.delete === true
          ? { ns, key: m.key, value: Buffer.alloc(0), metadata: null, expiration: null, version, deleted: 1 }
          : {
              ns,
              key: m.key,
              value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
              metadata: m.metadata,
              expiration: m.expiration,
              version,
              deleted: 0,
            },
      );
      return version;
    });
  });

  const changesSince = db.transaction((ns: string, since: number, maxBytes: number): KvChanges => {
    const sizes = sql.changeSizes.all(ns, since, since);
    const changes: KvChange[] = [];
    let bytes = 0;
    for (const { key, size } of sizes) {
      if (changes.length > 0 && bytes + size > maxBytes) return { changes, more: true };
      bytes += size;
      const row = sql.entry.get(ns, key);
      if (row) changes.push(toChange(row));
    }
    return { changes, more: sizes.length === 1000 };
  });

  return {
    createKvNamespace: (name, now = Date.now()) => run(() => create.immediate(name, now)),
    listKvNamespaces: () => run(() => sql.all.all().map(toNamespace)),
    getKvNamespace: (name) =>
      run(() => {
        const row = sql.byName.get(name);
        return row ? toNamespace(row) : null;
      }),
    renameKvNamespace: (name, newName) => run(() => rename.immediate(name, newName)),
    deleteKvNamespace: (name) => run(() => remove.immediate(name)),
    writeKv: (ns, mutations) => run(() => write.immediate(ns, mutations)),
    readKv: (ns, key, now = Date.now()) =>
      run((): KvEntry | null => {
        const row = sql.read.get(ns, key, Math.floor(now / 1000));
        if (!row) return null;
        const { deleted: _deleted, ...change } = toChange(row);
        return change;
      }),
    listKv: (ns, options, now = Date.now()) =>
      run(() => {
        const prefix = options.prefix ?? "";
        const after = options.cursor ? (decodeKvCursor(options.cursor) ?? "") : "";
        const rows = sql.list.all(ns, after, Math.floor(now / 1000), prefix, prefix, options.limit + 1);
        const more = rows.length > options.limit;
        const page = rows.slice(0, options.limit);
        return {
          keys: page.map((r) => ({ name: r.key, expiration: r.expiration, metadata: r.metadata })),
          cursor: more ? encodeKvCursor(page[page.length - 1]!.key) : null,
        };
      }),
    // One read transaction: the sizes and the rows describe the same moment.
    kvChangesSince: (ns, since, maxBytes) => run(() => changesSince.deferred(ns, since, maxBytes)),
    purgeExpiredKv: (now = Date.now()) => run(() => sql.purge.run(Math.floor(now / 1000)).changes),
  };
}
