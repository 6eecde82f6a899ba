import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import { createSqliteStore } from "./sqlite.js";
import type { NewVersion, Store } from "./types.js";

const version = (source: string): NewVersion => ({
  source,
  sha256: "0".repeat(64),
  vars: {},
  secrets: {},
  limits: { cpuMs: 50, memoryMb: 128, wallMs: 1000 },
});

describe("sqlite store: puts made together share one commit", () => {
  let dir: string;
  let path: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "edge-sqlite-group-"));
    path = join(dir, "edge.db");
    store = createSqliteStore(path);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores every put of a burst, numbered per script, and they survive a reopen", async () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${i % 10}`);
    const stored = await Promise.all(names.map((name, i) => store.putVersion(name, version(`v${i}`))));
    expect(stored.map((s) => s.version)).toEqual(names.map((_, i) => Math.floor(i / 10) + 1));
    await store.close();
    store = createSqliteStore(path);
    expect(await store.revision()).toBe(40);
    expect((await store.getActive("s3"))?.source).toBe("v33");
  });

  it("refuses only the conditional put that lost, keeping the others of the same commit", async () => {
    await store.putVersion("a", version("a1"));
    const results = await Promise.allSettled([
      store.putVersion("a", version("a2"), Date.now(), { ifActive: 1 }),
      store.putVersion("a", version("a3"), Date.now(), { ifActive: 1 }),
      store.putVersion("b", version("b1")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(isEdgeError(refused) && refused.code).toBe("EDGE_CONFLICT");
    expect((await store.getActive("a"))?.source).toBe("a2");
    expect((await store.getActive("b"))?.source).toBe("b1");
    expect((await store.listVersions("a")).map((v) => v.version)).toEqual([2, 1]);
    expect(await store.revision()).toBe(3);
  });

  it("fails every put of a commit that cannot happen with EDGE_STORE_UNAVAILABLE", async () => {
    const puts = [store.putVersion("a", version("a1")), store.putVersion("b", version("b1"))];
    // Closed before the queued commit runs.
    await store.close();
    const results = await Promise.allSettled(puts);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason;
      expect(isEdgeError(reason) && reason.code).toBe("EDGE_STORE_UNAVAILABLE");
    }
    store = createSqliteStore(path);
    expect(await store.getActive("a")).toBeNull();
  });
});
