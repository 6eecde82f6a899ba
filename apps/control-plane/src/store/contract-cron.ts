import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { version } from "./contract-helpers.js";

const claim = (tick: number, owner: string, cron = "* * * * *") => ({
  name: "job",
  cron,
  tick,
  owner,
  ttlMs: 60_000,
});

/** Cron Triggers: crons travel with their version; each tick is claimed once across replicas. */
export function cronContract(context: ContractContext): void {
  describe("cron triggers", () => {
    it("keeps a version's crons with the version, so a rollback restores them", async () => {
      const store = context.store();
      const crons = ["*/5 * * * *", "0 0 * * 1"];
      await store.putVersion("job", version("export default {}", { crons }));
      await store.putVersion("job", version("export default { v: 2 }"));
      expect((await store.getVersion("job", 1))!.crons).toEqual(crons);
      expect((await store.getActive("job"))!.crons).toEqual([]);
      await store.setActive("job", 1);
      expect((await store.getActive("job"))!.crons).toEqual(crons);
      expect((await store.snapshot()).scripts[0]!.crons).toEqual(crons);
    });

    it("lets exactly one of many concurrent claimers, on two connections, claim a tick", async (ctx) => {
      const store = context.store();
      const other = context.canReopen() ? await context.reopen(ctx) : store;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? store : other).claimCronTick(claim(60_000, `r${i}`)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await other.claimCronTick(claim(60_000, "late"))).toBe(false);
    });

    it("claims each tick and each cron of a script separately", async () => {
      const store = context.store();
      expect(await store.claimCronTick(claim(60_000, "a"))).toBe(true);
      expect(await store.claimCronTick(claim(120_000, "a"))).toBe(true);
      expect(await store.claimCronTick(claim(60_000, "a", "*/2 * * * *"))).toBe(true);
      expect(await store.claimCronTick({ ...claim(60_000, "a"), name: "other" })).toBe(true);
      expect(await store.claimCronTick(claim(120_000, "b"))).toBe(false);
    });
  });
}
