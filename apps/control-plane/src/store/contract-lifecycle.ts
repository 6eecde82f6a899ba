import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { range, version } from "./contract-helpers.js";
import type { Store } from "./types.js";

/**
 * The contract of a store over time and beside others on the same data:
 * durability across a reopen, concurrent writers, the change watch, ping and
 * close. Registered inside `storeContract`.
 */
export function lifecycleContract(c: ContractContext): void {
  it("still has an acknowledged write after the store is reopened", async (ctx) => {
    const store = c.store();
    await store.putVersion("durable", version("d1"), 1_000);
    await store.putVersion("durable", version("d2"), 2_000);
    await store.setActive("durable", 1, 3_000);
    await store.putVersion("doomed", version("x"));
    await store.deleteScript("doomed");
    const revision = await store.revision();

    const again = await c.reopen(ctx);
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
    const store = c.store();
    const other = await c.reopen(ctx);
    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : other).putVersion("shared", version(`v${i}`)),
      ),
    );
    expect(puts.map((v) => v.version).sort((a, b) => a - b)).toEqual(range(1, 20));
    expect(await store.revision()).toBe(20);
    expect(await other.getSummary("shared")).toMatchObject({ activeVersion: 20, latestVersion: 20 });
  });

  it("tells a watcher once it is established, then about every mutation, from this store or another on the same data", async (ctx) => {
    const store = c.store();
    const seen = watchCount(store);
    try {
      await seen.atLeast(1);
      let expected = seen.count + 1;
      await store.putVersion("w", version("w1"));
      await seen.atLeast(expected);
      expected = seen.count + 1;
      await store.setActive("w", 1);
      await seen.atLeast(expected);
      if (c.canReopen()) {
        const other = await c.reopen(ctx);
        expected = seen.count + 1;
        await other.deleteScript("w");
        await seen.atLeast(expected);
      }
    } finally {
      await seen.close();
    }
  });

  it("answers ping while open, rejects it after close, and tolerates a second close", async () => {
    const store = c.store();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
    await expect(store.close()).resolves.toBeUndefined();
  });
}

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
