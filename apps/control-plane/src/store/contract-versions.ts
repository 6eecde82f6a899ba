import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { LIMITS, range, sha256, version } from "./contract-helpers.js";

/**
 * The contract of a script's versions: numbering, activation and rollback,
 * deletion, listing, snapshots and the revision. Registered inside `storeContract`.
 */
export function versionContract(c: ContractContext): void {
  it("numbers a script's versions 1, 2, 3 and returns each with its sha256 and createdAt", async () => {
    const store = c.store();
    const puts = [];
    for (const [i, at] of [1_000, 2_000, 3_000].entries()) {
      puts.push(await store.putVersion("hello", version(`export default ${i};`), at));
    }
    expect(puts.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(puts.map((v) => v.createdAt)).toEqual([1_000, 2_000, 3_000]);
    expect(puts[1]?.sha256).toBe(sha256("export default 1;"));
    expect(puts[1]?.name).toBe("hello");
    expect(await store.getVersion("hello", 2)).toEqual(puts[1]);
  });

  it("makes every newly put version the active one", async () => {
    const store = c.store();
    for (const v of [1, 2, 3]) {
      await store.putVersion("hello", version(`v${v}`), v * 1_000);
      expect((await store.getActive("hello"))?.source).toBe(`v${v}`);
    }
    expect(await store.getSummary("hello")).toEqual({
      name: "hello",
      activeVersion: 3,
      latestVersion: 3,
      createdAt: 1_000,
      updatedAt: 3_000,
      rollout: null,
    });
  });

  it("rolls back to an older version with setActive, forward again, and a later put becomes latest + 1", async () => {
    const store = c.store();
    for (const v of [1, 2, 3]) await store.putVersion("hello", version(`v${v}`), v * 1_000);

    const rolledBack = await store.setActive("hello", 1, 5_000);
    expect(rolledBack).toEqual({
      name: "hello",
      activeVersion: 1,
      latestVersion: 3,
      createdAt: 1_000,
      updatedAt: 5_000,
      rollout: null,
    });
    expect((await store.getActive("hello"))?.source).toBe("v1");
    expect((await store.snapshot()).scripts.map((s) => [s.name, s.version])).toEqual([["hello", 1]]);

    expect((await store.setActive("hello", 3, 6_000))?.activeVersion).toBe(3);
    expect((await store.getActive("hello"))?.source).toBe("v3");

    await store.setActive("hello", 2, 7_000);
    const next = await store.putVersion("hello", version("v4"), 8_000);
    expect(next.version).toBe(4);
    expect((await store.getSummary("hello"))?.activeVersion).toBe(4);
  });

  it("answers null, false or [] for unknown scripts and versions", async () => {
    const store = c.store();
    await store.putVersion("known", version("x"));
    expect(await store.getActive("missing")).toBeNull();
    expect(await store.getVersion("missing", 1)).toBeNull();
    expect(await store.getVersion("known", 2)).toBeNull();
    expect(await store.getVersion("known", 0)).toBeNull();
    expect(await store.getVersion("known", 1.5)).toBeNull();
    expect(await store.getSummary("missing")).toBeNull();
    expect(await store.listVersions("missing")).toEqual([]);
    expect(await store.setActive("missing", 1)).toBeNull();
    expect(await store.setActive("known", 2)).toBeNull();
    expect(await store.setActive("known", -1)).toBeNull();
    expect(await store.deleteScript("missing")).toBe(false);
  });

  it("leaves the revision alone when a mutation finds nothing to change", async () => {
    const store = c.store();
    await store.putVersion("known", version("x"));
    const before = await store.revision();
    await store.setActive("missing", 1);
    await store.setActive("known", 9);
    await store.deleteScript("missing");
    expect(await store.revision()).toBe(before);
  });

  it("hides a deleted script from get, list and snapshot, and a later put continues at latest + 1", async () => {
    const store = c.store();
    await store.putVersion("gone", version("g1"), 1_000);
    await store.putVersion("gone", version("g2"), 2_000);
    await store.putVersion("kept", version("k1"), 3_000);

    expect(await store.deleteScript("gone")).toBe(true);
    expect(await store.deleteScript("gone")).toBe(false);
    expect(await store.getActive("gone")).toBeNull();
    expect(await store.getVersion("gone", 1)).toBeNull();
    expect(await store.getSummary("gone")).toBeNull();
    expect(await store.listVersions("gone")).toEqual([]);
    expect(await store.setActive("gone", 1)).toBeNull();
    expect((await store.listScripts()).map((s) => s.name)).toEqual(["kept"]);
    expect((await store.snapshot()).scripts.map((s) => s.name)).toEqual(["kept"]);

    const reborn = await store.putVersion("gone", version("g3"), 9_000);
    expect(reborn.version).toBe(3);
    expect(await store.listVersions("gone")).toHaveLength(1);
    expect(await store.getSummary("gone")).toEqual({
      name: "gone",
      activeVersion: 3,
      latestVersion: 3,
      createdAt: 9_000,
      updatedAt: 9_000,
      rollout: null,
    });
  });

  it("lists versions newest first, with their settings but without their source", async () => {
    const store = c.store();
    for (const v of [1, 2, 3]) {
      await store.putVersion("hello", version(`v${v}`, { vars: { N: String(v) } }), v * 1_000);
    }
    await store.setActive("hello", 1);
    const listed = await store.listVersions("hello");
    expect(listed.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(listed[0]).toEqual({
      name: "hello",
      version: 3,
      sha256: sha256("v3"),
      vars: { N: "3" },
      secrets: {},
      limits: LIMITS,
      bindings: {},
      createdAt: 3_000,
    });
    for (const v of listed) expect(v).not.toHaveProperty("source");
    for (const v of listed) expect(v).not.toHaveProperty("tsSource");
  });

  it("lists live scripts by name with their active and latest versions", async () => {
    const store = c.store();
    await store.putVersion("beta", version("b1"), 1_000);
    await store.putVersion("alpha", version("a1"), 2_000);
    await store.putVersion("alpha", version("a2"), 3_000);
    await store.setActive("alpha", 1, 4_000);
    expect(await store.listScripts()).toEqual([
      {
        name: "alpha",
        activeVersion: 1,
        latestVersion: 2,
        createdAt: 2_000,
        updatedAt: 4_000,
        rollout: null,
      },
      {
        name: "beta",
        activeVersion: 1,
        latestVersion: 1,
        createdAt: 1_000,
        updatedAt: 1_000,
        rollout: null,
      },
    ]);
  });

  it("pages through live scripts by name: `after` is exclusive, `limit` caps a page, deleted ones are skipped", async () => {
    const store = c.store();
    for (const name of ["e", "a", "d", "b", "c"]) await store.putVersion(name, version(`${name}1`));
    await store.deleteScript("c");
    const names = async (page: { after?: string; limit?: number }) =>
      (await store.listScripts(page)).map((s) => s.name);
    expect(await names({ limit: 2 })).toEqual(["a", "b"]);
    expect(await names({ after: "b", limit: 2 })).toEqual(["d", "e"]);
    expect(await names({ after: "e", limit: 2 })).toEqual([]);
    expect(await names({ after: "bb" })).toEqual(["d", "e"]);
    expect(await names({})).toEqual(["a", "b", "d", "e"]);
  });

  it("snapshots only live scripts, each at its active version, with the current revision", async () => {
    const store = c.store();
    expect(await store.snapshot()).toEqual({ revision: 0, scripts: [], rollouts: [] });
    await store.putVersion("b", version("b1"));
    await store.putVersion("b", version("b2"));
    await store.putVersion("a", version("a1"));
    await store.putVersion("c", version("c1"));
    await store.setActive("b", 1);
    await store.deleteScript("c");

    const snap = await store.snapshot();
    expect(snap.revision).toBe(await store.revision());
    expect(snap.scripts.map((s) => [s.name, s.version, s.source])).toEqual([
      ["a", 1, "a1"],
      ["b", 1, "b1"],
    ]);
    expect(snap.scripts[1]).toEqual(await store.getVersion("b", 1));
  });

  it("grows the revision on every mutation and never on reads", async () => {
    const store = c.store();
    const seen = [await store.revision()];
    const mark = async () => {
      const r = await store.revision();
      expect(r).toBeGreaterThan(seen[seen.length - 1]!);
      seen.push(r);
    };
    const read = async () => {
      const before = await store.revision();
      await store.getActive("a");
      await store.getVersion("a", 1);
      await store.getSummary("a");
      await store.listScripts();
      await store.listVersions("a");
      await store.snapshot();
      await store.ping();
      expect(await store.revision()).toBe(before);
    };

    await store.putVersion("a", version("a1"));
    await mark();
    await read();
    await store.putVersion("a", version("a2"));
    await mark();
    await store.setActive("a", 1);
    await mark();
    await read();
    await store.deleteScript("a");
    await mark();
    await store.putVersion("a", version("a3"));
    await mark();
    await read();
  });

  it("gives 20 concurrent puts to one name distinct, consecutive versions", async () => {
    const store = c.store();
    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putVersion("busy", version(`export default ${i};`))),
    );
    expect(puts.map((v) => v.version).sort((a, b) => a - b)).toEqual(range(1, 20));
    // Each number belongs to the source that was put with it.
    for (const put of puts) expect((await store.getVersion("busy", put.version))?.source).toBe(put.source);
    expect(await store.getSummary("busy")).toMatchObject({ latestVersion: 20 });
    expect((await store.listVersions("busy")).map((v) => v.version)).toEqual(range(1, 20).reverse());
  });
}
