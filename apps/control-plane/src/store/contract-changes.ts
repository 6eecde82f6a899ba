import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { version } from "./contract-helpers.js";
import type { Snapshot, SnapshotChanges, Store } from "./types.js";

/** How many scripts the large test holds: the scale a control plane must keep fast. */
const LARGE = 10_000;

/** Applies what changed to an older snapshot, as the push hub does: the result must be the new snapshot. */
function applyChanges(before: Snapshot, changes: SnapshotChanges): Snapshot {
  const touched = new Set(changes.changed);
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    revision: changes.revision,
    scripts: [...before.scripts.filter((s) => !touched.has(s.name)), ...changes.scripts].sort(byName),
    rollouts: [...before.rollouts.filter((r) => !touched.has(r.name)), ...changes.rollouts].sort(byName),
  };
}

async function putMany(store: Store, count: number): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => `app-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < names.length; i += 500) {
    await Promise.all(
      names.slice(i, i + 500).map((name) => store.putVersion(name, version(`export default "${name}";`))),
    );
  }
}

/**
 * The contract of `changesSince`: what changed after a revision, read in one
 * step, so the push hub follows a large store at the cost of the change.
 * Registered inside `storeContract`.
 */
export function changesContract(c: ContractContext): void {
  it("names every script whose desired state changed after a revision, once, with its state now", async () => {
    const store = c.store();
    await store.putVersion("kept", version("k1"));
    await store.putVersion("moved", version("m1"));
    await store.putVersion("rolled", version("r1"));
    await store.putVersion("gone", version("g1"));
    const before = await store.snapshot();
    expect(await store.changesSince(before.revision)).toEqual({
      revision: before.revision,
      changed: [],
      scripts: [],
      rollouts: [],
    });

    await store.putVersion("moved", version("m2"));
    await store.putVersion("moved", version("m3"));
    await store.putVersion("rolled", version("r2"), Date.now(), { activate: false });
    await store.startRollout("rolled", { version: 2, percent: 25 });
    await store.deleteScript("gone");
    await store.putVersion("added", version("a1"));

    const changes = await store.changesSince(before.revision);
    expect(changes?.revision).toBe(await store.revision());
    expect(changes?.changed).toEqual(["added", "gone", "moved", "rolled"]);
    expect(changes?.scripts.map((s) => [s.name, s.version, s.source])).toEqual([
      ["added", 1, "a1"],
      ["moved", 3, "m3"],
      ["rolled", 1, "r1"],
    ]);
    expect(changes?.rollouts.map((r) => [r.name, r.target.version, r.percent])).toEqual([["rolled", 2, 25]]);
    expect(applyChanges(before, changes!)).toEqual(await store.snapshot());
  });

  it("answers null when asked about a revision it has not reached (it lost writes): read the snapshot", async () => {
    const store = c.store();
    await store.putVersion("a", version("a1"));
    expect(await store.changesSince((await store.revision()) + 1)).toBeNull();
  });

  it(`keeps snapshot and changes exact with ${LARGE} scripts`, { timeout: 120_000 }, async () => {
    const store = c.store();
    await putMany(store, LARGE);
    const before = await store.snapshot();
    expect(before.scripts).toHaveLength(LARGE);
    expect(before.revision).toBe(LARGE);
    expect((await store.listScripts({ limit: 100, after: "app-09949" })).map((s) => s.name)).toHaveLength(50);

    await store.putVersion("app-00042", version("v2"));
    await store.deleteScript("app-05000");
    await store.putVersion("app-09999", version("canary"), Date.now(), { activate: false });
    await store.startRollout("app-09999", { version: 2, pops: ["fra"] });

    const changes = await store.changesSince(before.revision);
    expect(changes?.changed).toEqual(["app-00042", "app-05000", "app-09999"]);
    expect(changes?.scripts.map((s) => [s.name, s.version])).toEqual([
      ["app-00042", 2],
      ["app-09999", 1],
    ]);
    const after = await store.snapshot();
    expect(after.scripts).toHaveLength(LARGE - 1);
    expect(applyChanges(before, changes!)).toEqual(after);
    // From the start, a store either still has every change or says to read the snapshot.
    const all = await store.changesSince(0);
    if (all !== null) expect(applyChanges({ revision: 0, scripts: [], rollouts: [] }, all)).toEqual(after);
  });
}
