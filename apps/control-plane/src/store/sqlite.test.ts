import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import { storeContract } from "./contract.js";
import { createSqliteStore } from "./sqlite.js";

storeContract("sqlite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-sqlite-store-"));
  // A nested path also proves the parent directory is created.
  const path = join(dir, "data", "edge.db");
  return {
    store: createSqliteStore(path),
    reopen: async () => createSqliteStore(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

storeContract("sqlite :memory:", async () => ({
  store: createSqliteStore(":memory:"),
  cleanup: async () => {},
}));

describe("sqlite store file", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "edge-sqlite-file-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the database and its -wal and -shm files readable by their owner only (0600)", async () => {
    const path = join(dir, "edge.db");
    const store = createSqliteStore(path);
    await store.putVersion("a", {
      source: "export default {}",
      sha256: "0".repeat(64),
      vars: {},
      secrets: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 1000 },
    });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777).toBe(0o600);
    await store.close();
    // A file left world-readable by an older version is tightened on open.
    const old = join(dir, "old.db");
    writeFileSync(old, "");
    chmodSync(old, 0o644);
    await createSqliteStore(old).close();
    expect(statSync(old).mode & 0o777).toBe(0o600);
  });

  it("puts the database in WAL mode, as another connection can see", async () => {
    const path = join(dir, "edge.db");
    const store = createSqliteStore(path);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      raw.close();
      await store.close();
    }
  });

  it("refuses a file written by a newer schema version instead of misreading it", () => {
    const path = join(dir, "newer.db");
    mkdirSync(dir, { recursive: true });
    const raw = new Database(path);
    raw.pragma("user_version = 99");
    raw.close();

    let error: unknown;
    try {
      createSqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(isEdgeError(error) && error.code).toBe("EDGE_STORE_UNAVAILABLE");
    expect(String(error)).toMatch(/newer/);
  });
});
