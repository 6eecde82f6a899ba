import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { CacheCaller, CacheEntry, CacheProvider } from "@edge/isolate-host";
import Database from "better-sqlite3";

/** What the store counts (per script): hits, misses, stores, bytes served from and written to cache. */
export type CacheEvent = "hits" | "misses" | "puts" | "hitBytes" | "putBytes" | "evictions";
export type CacheRecorder = (script: string, event: CacheEvent, count: number) => void;

export interface CacheStoreOptions {
  /** Bound on the stored bytes (bodies, headers, keys); least recently used entries go past it. */
  maxBytes: number;
  /** Bound on one entry's body: a larger response is refused (`put()` rejects). */
  maxEntryBytes: number;
  record?: CacheRecorder;
  now?: () => number;
}

interface Row {
  status: number;
  headers: string;
  body: Buffer;
  expires_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY, script TEXT NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL,
  body BLOB NOT NULL, expires_at INTEGER NOT NULL, size INTEGER NOT NULL, used INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS entries_by_use ON entries (used);
`;

/**
 * The Cache API's store on one edge node (`<EDGE_CACHE_DIR>/http-cache/cache.db`):
 * one SQLite file, so entries survive a restart and are never shared with
 * another node (Cloudflare's cache is per data centre, too). Keys already
 * carry the script's name (isolate-host's `cacheKey`). Expired entries are
 * dropped when read; the total size stays under `maxBytes` by evicting the
 * least recently used entries (a use counter, persisted, orders them).
 */
export class CacheStore implements CacheProvider {
  readonly #db: Database.Database;
  readonly #sql;
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  readonly #record: CacheRecorder;
  readonly #now: () => number;
  #bytes: number;
  #clock: number;

  /** Opens (or creates) the store in `dir`; ":memory:" keeps it in memory (tests). */
  constructor(dir: string, options: CacheStoreOptions) {
    const memory = dir === ":memory:";
    if (!memory) mkdirSync(dir, { recursive: true });
    this.#db = new Database(memory ? ":memory:" : join(dir, "cache.db"));
    this.#db.pragma("journal_mode = WAL");
    // A cache may lose its last writes in a crash; it must not be slowed by an fsync per put.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#sql = {
      get: db.prepare<[string], Row>("SELECT status, headers, body, expires_at FROM entries WHERE key = ?"),
      touch: db.prepare("UPDATE entries SET used = ? WHERE key = ?"),
      sizeOf: db.prepare<[string], { size: number }>("SELECT size FROM entries WHERE key = ?"),
      upsert: db.prepare(
        `INSERT INTO entries (key, script, status, headers, body, expires_at, size, used)
         VALUES (@key, @script, @status, @headers, @body, @expiresAt, @size, @used)
         ON CONFLICT (key) DO UPDATE SET script = excluded.script, status = excluded.status,
           headers = excluded.headers, body = excluded.body, expires_at = excluded.expires_at,
           size = excluded.size, used = excluded.used`,
      ),
      remove: db.prepare("DELETE FROM entries WHERE key = ?"),
      oldest: db.prepare<[], { key: string; script: string; size: number }>(
        "SELECT key, script, size FROM entries ORDER BY used LIMIT 64",
      ),
      totals: db.prepare<[], { bytes: number | null; clock: number | null }>(
        "SELECT sum(size) AS bytes, max(used) AS clock FROM entries",
      ),
    };
    const totals = this.#sql.totals.get();
    this.#bytes = totals?.bytes ?? 0;
    this.#clock = totals?.clock ?? 0;
    this.#maxBytes = options.maxBytes;
    this.#maxEntryBytes = options.maxEntryBytes;
    this.#record = options.record ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** Bytes stored now (bodies, headers and keys). */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, caller: CacheCaller): CacheEntry | null {
    const row = this.#sql.get.get(key);
    if (row !== undefined && row.expires_at <= this.#now()) {
      this.#remove(key);
    } else if (row !== undefined) {
      this.#sql.touch.run(++this.#clock, key);
      this.#record(caller.script, "hits", 1);
      this.#record(caller.script, "hitBytes", row.body.byteLength);
      return {
        status: row.status,
        headers: JSON.parse(row.headers) as Array<[string, string]>,
        body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
        expiresAt: row.expires_at,
      };
    }
    this.#record(caller.script, "misses", 1);
    return null;
  }

  put(key: string, entry: CacheEntry, caller: CacheCaller): void {
    if (entry.body.byteLength > this.#maxEntryBytes) {
      throw new Error(`The response body is too large to cache (limit ${this.#maxEntryBytes} bytes).`);
    }
    const headers = JSON.stringify(entry.headers);
    const size = entry.body.byteLength + Buffer.byteLength(headers) + Buffer.byteLength(key);
    // Too big for the whole store: not stored, as a full cache would soon evict it anyway.
    if (size > this.#maxBytes) return;
    this.#db.transaction(() => {
      const previous = this.#sql.sizeOf.get(key)?.size ?? 0;
      this.#sql.upsert.run({
        key,
        script: caller.script,
        status: entry.status,
        headers,
        body: Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength),
        expiresAt: entry.expiresAt,
        size,
        used: ++this.#clock,
      });
      this.#bytes += size - previous;
      this.#evict(key);
    })();
    this.#record(caller.script, "puts", 1);
    this.#record(caller.script, "putBytes", entry.body.byteLength);
  }

  delete(key: string, _caller: CacheCaller): boolean {
    return this.#remove(key);
  }

  close(): void {
    this.#db.close();
  }

  #remove(key: string): boolean {
    const size = this.#sql.sizeOf.get(key)?.size;
    if (size === undefined) return false;
    this.#sql.remove.run(key);
    this.#bytes -= size;
    return true;
  }

  /** Drops least recently used entries (never `keep`, just written) until the store fits. */
  #evict(keep: string): void {
    while (this.#bytes > this.#maxBytes) {
      const victims = this.#sql.oldest.all().filter((v) => v.key !== keep);
      if (victims.length === 0) return;
      for (const victim of victims) {
        if (this.#bytes <= this.#maxBytes) return;
        this.#sql.remove.run(victim.key);
        this.#bytes -= victim.size;
        this.#record(victim.script, "evictions", 1);
      }
    }
  }
}
