import { afterEach, beforeEach, describe, type TestContext } from "vitest";
import { conditionalPutContract } from "./contract-if-active.js";
import { lifecycleContract } from "./contract-lifecycle.js";
import { nodeStateContract } from "./contract-node-states.js";
import { payloadContract } from "./contract-payloads.js";
import { rolloutContract } from "./contract-rollouts.js";
import { versionContract } from "./contract-versions.js";
import type { Store } from "./types.js";

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

    const context: ContractContext = { store: () => store, reopen, canReopen: () => !!fixture.reopen };
    versionContract(context);
    payloadContract(context);
    rolloutContract(context);
    lifecycleContract(context);
    conditionalPutContract(context);
    nodeStateContract(context);
  });
}
