import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import { isEdgeError } from "../errors.js";
import type { ContractContext } from "./contract.js";
import type { NewVersion, Store } from "./types.js";

/**
 * The contract of conditional puts (`PutOptions.ifActive`), the compare-and-set
 * that keeps read-modify-write changes (new vars on the active code) from
 * overwriting each other. Registered inside `storeContract`.
 */
export function conditionalPutContract(c: ContractContext): void {
  it("stores a put conditional on the active version it read, and refuses a stale one with EDGE_CONFLICT, storing nothing", async () => {
    const store = c.store();
    await store.putVersion("app", settings({ A: "1" }), 1_000);
    const second = await store.putVersion("app", settings({ A: "2" }), 2_000, { ifActive: 1 });
    expect(second).toMatchObject({ version: 2, vars: { A: "2" } });
    const revision = await store.revision();

    expect(await conflictOf(store.putVersion("app", settings({ A: "stale" }), 3_000, { ifActive: 1 }))).toBe(
      "EDGE_CONFLICT",
    );
    expect(await store.getSummary("app")).toMatchObject({
      activeVersion: 2,
      latestVersion: 2,
      updatedAt: 2_000,
    });
    expect((await store.listVersions("app")).map((v) => v.version)).toEqual([2, 1]);
    expect(await store.revision()).toBe(revision);
    // The number the refused put would have taken is still the next one.
    expect((await store.putVersion("app", settings({ A: "3" }), 4_000, { ifActive: 2 })).version).toBe(3);
  });

  it("reads ifActive null as 'the script is not live': true before the first put and again after a delete", async () => {
    const store = c.store();
    expect((await store.putVersion("app", settings({}), 1_000, { ifActive: null })).version).toBe(1);
    expect(await conflictOf(store.putVersion("app", settings({}), 2_000, { ifActive: null }))).toBe(
      "EDGE_CONFLICT",
    );
    await store.deleteScript("app");
    expect(await conflictOf(store.putVersion("app", settings({}), 3_000, { ifActive: 1 }))).toBe(
      "EDGE_CONFLICT",
    );
    expect(await store.getSummary("app")).toBeNull();
    expect((await store.putVersion("app", settings({}), 4_000, { ifActive: null })).version).toBe(2);
  });

  it("compares with the active version, not the latest: a rollback moves it, an inactive put does not", async () => {
    const store = c.store();
    await store.putVersion("app", settings({ V: "1" }));
    await store.putVersion("app", settings({ V: "2" }));
    await store.setActive("app", 1);
    expect(await conflictOf(store.putVersion("app", settings({}), Date.now(), { ifActive: 2 }))).toBe(
      "EDGE_CONFLICT",
    );
    expect((await store.putVersion("app", settings({}), Date.now(), { ifActive: 1 })).version).toBe(3);

    await store.putVersion("app", settings({ V: "staged" }), Date.now(), { activate: false });
    await store.startRollout("app", { version: 4, percent: 10 });
    const next = await store.putVersion("app", settings({ V: "5" }), Date.now(), { ifActive: 3 });
    expect(next.version).toBe(5);
    // Like any activating put, it ends the rollout.
    expect(await store.getSummary("app")).toMatchObject({
      activeVersion: 5,
      latestVersion: 5,
      rollout: null,
    });
  });

  it("lets exactly one of 10 concurrent puts conditional on the same active version through", async () => {
    const store = c.store();
    await store.putVersion("busy", settings({}));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.putVersion("busy", settings({ N: String(i) }), Date.now(), { ifActive: 1 }),
      ),
    );
    const stored = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(stored.map((v) => v.version)).toEqual([2]);
    expect(refused.map((e) => isEdgeError(e) && e.code)).toEqual(Array(9).fill("EDGE_CONFLICT"));
    expect((await store.getActive("busy"))?.vars).toEqual(stored[0]?.vars);
  });

  it("lets exactly one conditional put through when two stores on the same data race", async (ctx) => {
    const store = c.store();
    const other = await c.reopen(ctx);
    await store.putVersion("shared", settings({}));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? store : other).putVersion("shared", settings({ N: String(i) }), Date.now(), {
          ifActive: 1,
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await other.getSummary("shared")).toMatchObject({ activeVersion: 2, latestVersion: 2 });
  });

  it("keeps every change of concurrent read-modify-write loops that retry on EDGE_CONFLICT", async () => {
    const store = c.store();
    await store.putVersion("env", settings({ BASE: "kept" }));
    const writers = 8;
    await Promise.all(
      Array.from({ length: writers }, (_, i) => addVar(store, "env", `K${i}`, String(i), writers)),
    );
    const expected = {
      BASE: "kept",
      ...Object.fromEntries(Array.from({ length: writers }, (_, i) => [`K${i}`, String(i)])),
    };
    expect((await store.getActive("env"))?.vars).toEqual(expected);
    expect(await store.getSummary("env")).toMatchObject({
      activeVersion: 1 + writers,
      latestVersion: 1 + writers,
    });
  });
}

/**
 * Adds one var to the active version, retrying on conflict. Each refusal means
 * another writer got through, so `writers` attempts always suffice.
 */
async function addVar(
  store: Store,
  name: string,
  key: string,
  value: string,
  writers: number,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const active = await store.getActive(name);
    if (active === null) throw new Error(`${name} vanished`);
    try {
      await store.putVersion(name, settings({ ...active.vars, [key]: value }), Date.now(), {
        ifActive: active.version,
      });
      return;
    } catch (error) {
      if (!(isEdgeError(error) && error.code === "EDGE_CONFLICT") || attempt >= writers) throw error;
    }
  }
}

/** The error code a put was refused with, or "stored". */
async function conflictOf(put: Promise<unknown>): Promise<string> {
  return put.then(
    () => "stored",
    (error: unknown) => (isEdgeError(error) ? error.code : String(error)),
  );
}

const SOURCE = "export default { fetch() { return new Response('env'); } };";

function settings(vars: Record<string, string>): NewVersion {
  return {
    sha256: createHash("sha256").update(SOURCE).digest("hex"),
    source: SOURCE,
    vars,
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
  };
}
