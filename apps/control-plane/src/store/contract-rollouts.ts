import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { version } from "./contract-helpers.js";

/**
 * The contract of staged versions and gradual rollouts: a put without
 * activation, then a rollout started, promoted, aborted or ended by another
 * change. Registered inside `storeContract`.
 */
export function rolloutContract(c: ContractContext): void {
  it("stores a version without activating it when asked, but always activates a script's first version", async () => {
    const store = c.store();
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
    const store = c.store();
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
    const store = c.store();
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
    const store = c.store();
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
    const store = c.store();
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
}
