import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, type TestContext } from "vitest";
import { conditionalPutContract } from "./contract-if-active.js";
import { nodeStateContract } from "./contract-node-states.js";
import type { NewVersion, Store } from "./types.js";

/**
 * The behaviour every `Store` implementation must show. Each test gets a fresh,
 * empty store from `make()`. `reopen()` opens a second Store on the same data
 * (the same file, the same Redis and prefix); the contract closes every store
 * it was given or opened, then calls `cleanup()` to remove the data.
 */
export interface StoreFixture {
  store: Store;
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

/** What the contract's parts in other files (`contract-*.ts`) see of the current test's fixture. */
export interface ContractContext {
  /** The fresh store of the running test. */
  store(): Store;
  /** A second Store on the same data, or a skipped test when the implementation has none. */
  reopen(ctx: TestContext): Promise<Store>;
  /** Whether `reopen` works for this implementation. */
  canReopen(): boolean;
}

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`${name} store contract`, () => {
    let fixture: StoreFixture;
    let store: Store;
    let opened: Store[] = [];

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      opened = [store];
    });

    afterEach(async () => {
      for (const s of opened) await s.close();
      await fixture.cleanup();
    });

    /** A second Store on the same data, or a skipped test when the implementation has none. */
    const reopen = async (ctx: TestContext): Promise<Store> => {
      if (!fixture.reopen) {
        ctx.skip();
        throw new Error("unreachable: skipped");
      }
      const second = await fixture.reopen();
      opened.push(second);
      return second;
    };

    it("numbers a script's versions 1, 2, 3 and returns each with its sha256 and createdAt", async () => {
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
      await store.putVersion("known", version("x"));
      const before = await store.revision();
      await store.setActive("missing", 1);
      await store.setActive("known", 9);
      await store.deleteScript("missing");
      expect(await store.revision()).toBe(before);
    });

    it("hides a deleted script from get, list and snapshot, and a later put continues at latest + 1", async () => {
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
        createdAt: 3_000,
      });
      for (const v of listed) expect(v).not.toHaveProperty("source");
      for (const v of listed) expect(v).not.toHaveProperty("tsSource");
    });

    it("lists live scripts by name with their active and latest versions", async () => {
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

    it("snapshots only live scripts, each at its active version, with the current revision", async () => {
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
      const puts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.putVersion("busy", version(`export default ${i};`))),
      );
      expect(puts.map((v) => v.version).sort((a, b) => a - b)).toEqual(range(1, 20));
      // Each number belongs to the source that was put with it.
      for (const put of puts) expect((await store.getVersion("busy", put.version))?.source).toBe(put.source);
      expect(await store.getSummary("busy")).toMatchObject({ latestVersion: 20 });
      expect((await store.listVersions("busy")).map((v) => v.version)).toEqual(range(1, 20).reverse());
    });

    it("round-trips vars and limits", async () => {
      const vars = { API_URL: "https://example.com/?a=1&b=2", EMPTY: "", 'quote"key': "line\nbreak" };
      const limits = { cpuMs: 7, memoryMb: 64, wallMs: 12_345 };
      const put = await store.putVersion("cfg", version("x", { vars, limits }));
      expect(put.vars).toEqual(vars);
      expect(put.limits).toEqual(limits);
      expect((await store.getActive("cfg"))?.vars).toEqual(vars);
      expect((await store.getVersion("cfg", 1))?.limits).toEqual(limits);
      expect((await store.snapshot()).scripts[0]).toMatchObject({ vars, limits });

      await store.putVersion("cfg", version("y", { vars: {} }));
      expect((await store.getActive("cfg"))?.vars).toEqual({});
    });

    it("keeps a version's sealed secrets and TypeScript source with it, everywhere it is read", async () => {
      const secrets = { API_KEY: "v1:c2VhbGVk", 'odd"name': "v1:bGluZQpicmVhaw==" };
      const tsSource = "export default { fetch(): Response { return new Response('é') } };\n";
      const put = await store.putVersion("typed", version("compiled", { secrets, tsSource }), 1_000);
      expect(put).toMatchObject({ secrets, tsSource, source: "compiled" });
      expect(await store.getActive("typed")).toMatchObject({ secrets, tsSource });
      expect(await store.getVersion("typed", 1)).toMatchObject({ secrets, tsSource });
      expect((await store.listVersions("typed"))[0]?.secrets).toEqual(secrets);
      expect((await store.snapshot()).scripts[0]).toMatchObject({ secrets, tsSource });

      // A later JavaScript version without secrets, rolled out: each version keeps its own settings.
      await store.putVersion("typed", version("plain"), 2_000, { activate: false });
      await store.startRollout("typed", { version: 2, percent: 10 }, 3_000);
      const snap = await store.snapshot();
      expect(snap.scripts[0]).toMatchObject({ version: 1, secrets, tsSource });
      expect(snap.rollouts[0]?.target).toMatchObject({ version: 2, secrets: {}, tsSource: null });
      expect(await store.getVersion("typed", 2)).toMatchObject({ secrets: {}, tsSource: null });
    });

    it("round-trips a 1 MiB source full of non-ASCII characters unchanged", async () => {
      const source = bigUnicodeSource(1024 * 1024);
      await store.putVersion("big", version(source));
      const back = await store.getActive("big");
      // Compared as booleans so a failure does not print a megabyte.
      expect(back?.source.length).toBe(source.length);
      expect(back?.source === source).toBe(true);
      expect(back?.sha256).toBe(sha256(source));
      expect((await store.snapshot()).scripts[0]?.source === source).toBe(true);
    });

    it("still has an acknowledged write after the store is reopened", async (ctx) => {
      await store.putVersion("durable", version("d1"), 1_000);
      await store.putVersion("durable", version("d2"), 2_000);
      await store.setActive("durable", 1, 3_000);
      await store.putVersion("doomed", version("x"));
      await store.deleteScript("doomed");
      const revision = await store.revision();

      const again = await reopen(ctx);
      expect(await again.revision()).toBe(revision);
      expect(await again.getSummary("durable")).toEqual({
        name: "durable",
        activeVersion: 1,
        latestVersion: 2,
        createdAt: 1_000,
        updatedAt: 3_000,
        rollout: null,
      });
      expect((await again.getActive("durable"))?.source).toBe("d1");
      expect(await again.getSummary("doomed")).toBeNull();
      expect((await again.putVersion("doomed", version("y"))).version).toBe(2);
    });

    it("gives puts from two stores on the same data distinct, consecutive versions", async (ctx) => {
      const other = await reopen(ctx);
      const puts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? store : other).putVersion("shared", version(`v${i}`)),
        ),
      );
      expect(puts.map((v) => v.version).sort((a, b) => a - b)).toEqual(range(1, 20));
      expect(await store.revision()).toBe(20);
      expect(await other.getSummary("shared")).toMatchObject({ activeVersion: 20, latestVersion: 20 });
    });

    it("stores a version without activating it when asked, but always activates a script's first version", async () => {
      const first = await store.putVersion("quiet", version("q1"), 1_000, { activate: false });
      expect((await store.getSummary("quiet"))?.activeVersion).toBe(first.version);
      const before = await store.revision();
      const second = await store.putVersion("quiet", version("q2"), 2_000, { activate: false });
      expect(second.version).toBe(2);
      expect(await store.getSummary("quiet")).toMatchObject({
        activeVersion: 1,
        latestVersion: 2,
        updatedAt: 2_000,
      });
      expect((await store.getActive("quiet"))?.source).toBe("q1");
      expect((await store.getVersion("quiet", 2))?.source).toBe("q2");
      expect(await store.revision()).toBeGreaterThan(before);
    });

    it("starts a rollout by percent or by PoPs and snapshots it with the version it rolls out", async () => {
      await store.putVersion("app", version("a1"), 1_000);
      await store.putVersion("app", version("a2", { vars: { V: "2" } }), 2_000, { activate: false });
      await store.putVersion("pinned", version("p1"), 1_000);
      await store.putVersion("pinned", version("p2"), 2_000, { activate: false });
      const before = await store.revision();

      const byPercent = await store.startRollout("app", { version: 2, percent: 10 }, 3_000);
      expect(byPercent).toMatchObject({
        activeVersion: 1,
        updatedAt: 3_000,
        rollout: { version: 2, percent: 10, pops: null, startedAt: 3_000 },
      });
      const byPops = await store.startRollout("pinned", { version: 2, pops: ["fra", "sin"] }, 4_000);
      expect(byPops?.rollout).toEqual({ version: 2, percent: null, pops: ["fra", "sin"], startedAt: 4_000 });
      expect(await store.revision()).toBe(before + 2);
      expect(await store.getSummary("app")).toEqual(byPercent);

      const snap = await store.snapshot();
      expect(snap.scripts.map((s) => [s.name, s.version])).toEqual([
        ["app", 1],
        ["pinned", 1],
      ]);
      expect(snap.rollouts).toEqual([
        { name: "app", target: await store.getVersion("app", 2), percent: 10, pops: null, startedAt: 3_000 },
        {
          name: "pinned",
          target: await store.getVersion("pinned", 2),
          percent: null,
          pops: ["fra", "sin"],
          startedAt: 4_000,
        },
      ]);
    });

    it("answers null and changes nothing for a rollout of an unknown script or version, or a finish without one", async () => {
      await store.putVersion("app", version("a1"));
      const before = await store.revision();
      expect(await store.startRollout("ghost", { version: 1, percent: 5 })).toBeNull();
      expect(await store.startRollout("app", { version: 7, percent: 5 })).toBeNull();
      expect(await store.startRollout("app", { version: 0, pops: ["fra"] })).toBeNull();
      expect(await store.finishRollout("app", "promote")).toBeNull();
      expect(await store.finishRollout("ghost", "abort")).toBeNull();
      expect(await store.revision()).toBe(before);
    });

    it("promotes a rollout's version to active, or aborts it leaving the active version alone", async () => {
      for (const name of ["up", "down"]) {
        await store.putVersion(name, version(`${name}1`), 1_000);
        await store.putVersion(name, version(`${name}2`), 2_000, { activate: false });
        await store.startRollout(name, { version: 2, percent: 50 }, 3_000);
      }
      expect(await store.finishRollout("up", "promote", 4_000)).toMatchObject({
        activeVersion: 2,
        updatedAt: 4_000,
        rollout: null,
      });
      expect(await store.finishRollout("down", "abort", 5_000)).toMatchObject({
        activeVersion: 1,
        updatedAt: 5_000,
        rollout: null,
      });
      const snap = await store.snapshot();
      expect(snap.scripts.map((s) => [s.name, s.version])).toEqual([
        ["down", 1],
        ["up", 2],
      ]);
      expect(snap.rollouts).toEqual([]);
    });

    it("ends a rollout on rollback, on an activating deploy and on delete, but not on a deploy without activation", async () => {
      const staged = async (name: string) => {
        await store.putVersion(name, version(`${name}1`));
        await store.putVersion(name, version(`${name}2`), Date.now(), { activate: false });
        await store.startRollout(name, { version: 2, pops: ["fra"] });
      };
      await staged("rolled");
      await store.setActive("rolled", 1);
      expect((await store.getSummary("rolled"))?.rollout).toBeNull();

      await staged("redeployed");
      await store.putVersion("redeployed", version("r3"));
      expect(await store.getSummary("redeployed")).toMatchObject({ activeVersion: 3, rollout: null });

      await staged("kept");
      await store.putVersion("kept", version("k3"), Date.now(), { activate: false });
      expect((await store.getSummary("kept"))?.rollout).toMatchObject({ version: 2, pops: ["fra"] });

      await staged("gone");
      await store.deleteScript("gone");
      await store.putVersion("gone", version("g3"));
      expect((await store.getSummary("gone"))?.rollout).toBeNull();
      expect((await store.snapshot()).rollouts.map((r) => r.name)).toEqual(["kept"]);
    });

    it("tells a watcher once it is established, then about every mutation, from this store or another on the same data", async (ctx) => {
      const seen = watchCount(store);
      try {
        await seen.atLeast(1);
        let expected = seen.count + 1;
        await store.putVersion("w", version("w1"));
        await seen.atLeast(expected);
        expected = seen.count + 1;
        await store.setActive("w", 1);
        await seen.atLeast(expected);
        if (fixture.reopen) {
          const other = await reopen(ctx);
          expected = seen.count + 1;
          await other.deleteScript("w");
          await seen.atLeast(expected);
        }
      } finally {
        await seen.close();
      }
    });

    it("answers ping while open, rejects it after close, and tolerates a second close", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
      await expect(store.close()).resolves.toBeUndefined();
    });

    const context: ContractContext = { store: () => store, reopen, canReopen: () => !!fixture.reopen };
    conditionalPutContract(context);
    nodeStateContract(context);
  });
}

const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };

/** Counts a watch's onChange calls; `atLeast` waits (boundedly) for a count. */
function watchCount(store: Store) {
  const state = { count: 0 };
  const watch = store.watch({
    onChange: () => {
      state.count += 1;
    },
    onError: () => {},
  });
  return {
    get count() {
      return state.count;
    },
    async atLeast(n: number): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (state.count < n) {
        if (Date.now() > deadline) throw new Error(`the watch saw ${state.count} changes, expected ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => watch.close(),
  };
}

function version(source: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return { sha256: sha256(source), source, vars: {}, limits: LIMITS, ...overrides };
}

function sha256(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** At least `bytes` of UTF-8 mixing 2-, 3- and 4-byte characters (astral ones are surrogate pairs in JS). */
function bigUnicodeSource(bytes: number): string {
  const line = "// héllo wörld 你好世界 🚀🌍 ∑∞ — ünïcödé\nexport const x = '🦀';\n";
  const lineBytes = Buffer.byteLength(line);
  return line.repeat(Math.ceil(bytes / lineBytes));
}
