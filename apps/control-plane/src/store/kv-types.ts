/**
 * Workers KV in the store: namespaces and their values. Every write to a
 * namespace takes the namespace's next version (1, 2, 3…), stored with the
 * key it wrote; a delete leaves a tombstone with its version. So "what
 * changed since version v" is every key written after v, which is how edge
 * nodes catch up after a reconnect without a full re-send.
 *
 * Expirations are epoch seconds. An expired key reads as absent at once
 * everywhere (each side checks the clock); `purgeExpiredKv` removes the rows.
 */

export interface KvNamespace {
  /** Stable id (32 hex digits); bindings and replicas refer to it, so a rename changes nothing for them. */
  id: string;
  name: string;
  /** epoch ms */
  createdAt: number;
  /** The version of the namespace's last write; 0 when never written. */
  version: number;
}

/** One value as stored. `metadata` is JSON text (null: none); `expiration` epoch seconds (null: never). */
export interface KvEntry {
  key: string;
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
  version: number;
}

export type KvMutation =
  | { key: string; delete: true }
  | { key: string; delete?: false; value: Uint8Array; metadata: string | null; expiration: number | null };

export interface KvListOptions {
  prefix?: string;
  /** 1..1000 (the caller checks). */
  limit: number;
  /** The cursor a previous page returned. */
  cursor?: string | null;
}

export interface KvListedKey {
  name: string;
  expiration: number | null;
  metadata: string | null;
}

export interface KvListPage {
  keys: KvListedKey[];
  /** Null when the listing is complete. */
  cursor: string | null;
}

/** A key written after some version: its new value, or a tombstone (`deleted`). */
export interface KvChange {
  key: string;
  version: number;
  deleted: boolean;
  value: Uint8Array;
  metadata: string | null;
  expiration: number | null;
}

export interface KvChanges {
  /** In version order. */
  changes: KvChange[];
  /** More changes follow the last one (the byte budget was reached). */
  more: boolean;
}

export interface KvStore {
  /** Rejects with `EDGE_KV_NAMESPACE_EXISTS` when the name is taken. */
  createKvNamespace(name: string, now?: number): Promise<KvNamespace>;
  /** By name. */
  listKvNamespaces(): Promise<KvNamespace[]>;
  getKvNamespace(name: string): Promise<KvNamespace | null>;
  /** Null if `name` does not exist; rejects with `EDGE_KV_NAMESPACE_EXISTS` when `newName` is taken. */
  renameKvNamespace(name: string, newName: string): Promise<KvNamespace | null>;
  /** Removes the namespace and its values. False if unknown. */
  deleteKvNamespace(name: string): Promise<boolean>;
  /**
   * Applies the mutations in order, atomically, each taking the namespace's
   * next version; resolves once durable with those versions, or null if the
   * namespace (by id) does not exist.
   */
  writeKv(namespaceId: string, mutations: KvMutation[]): Promise<number[] | null>;
  /** A live (not deleted, not expired at `now`) value, or null. */
  readKv(namespaceId: string, key: string, now?: number): Promise<KvEntry | null>;
  /** Live keys in byte order of their UTF-8 names, from after the cursor. */
  listKv(namespaceId: string, options: KvListOptions, now?: number): Promise<KvListPage>;
  /**
   * Keys written after version `since` (tombstones included, except from 0),
   * up to about `maxBytes` of values (always at least one change).
   */
  kvChangesSince(namespaceId: string, since: number, maxBytes: number): Promise<KvChanges>;
  /** Removes every value expired at `now`; resolves with how many. */
  purgeExpiredKv(now?: number): Promise<number>;
}

/** Cursors are the last key of a page, opaque to callers. */
export function encodeKvCursor(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

/** Null for a cursor this store did not make. */
export function decodeKvCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  return encodeKvCursor(key) === cursor ? key : null;
}

/** Whether an expiration (epoch seconds) has passed at `nowMs`. */
export function kvExpired(expiration: number | null, nowMs: number): boolean {
  return expiration !== null && expiration * 1000 <= nowMs;
}
