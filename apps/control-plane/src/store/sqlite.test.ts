import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
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
