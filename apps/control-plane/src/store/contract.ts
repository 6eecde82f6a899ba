import { describe } from "vitest";
import { changesContract } from "./contract-changes.js";
import { cronContract } from "./contract-cron.js";
import { enrolmentContract } from "./contract-enrolments.js";
import { type ContractFixture, type FixtureAccess, useContractFixture } from "./contract-fixture.js";
import { conditionalPutContract } from "./contract-if-active.js";
import { kvContract } from "./contract-kv.js";
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
export type StoreFixture = ContractFixture<Store>;

/** What the contract's parts in other files (`contract-*.ts`) see of the current test's fixture. */
export type ContractContext = FixtureAccess<Store>;

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`${name} store contract`, () => {
    const context = useContractFixture(make);
    versionContract(context);
    changesContract(context);
    payloadContract(context);
    rolloutContract(context);
    lifecycleContract(context);
    conditionalPutContract(context);
    nodeStateContract(context);
    enrolmentContract(context);
    kvContract(context);
    cronContract(context);
  });
}
