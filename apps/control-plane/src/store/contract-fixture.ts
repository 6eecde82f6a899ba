import { afterEach, beforeEach, type TestContext } from "vitest";

/**
 * What a contract suite is given per test: a fresh, empty store; optionally a
 * way to open a second one on the same data (another replica); and a cleanup
 * that removes the data once every store the suite opened is closed.
 */
export interface ContractFixture<S> {
  store: S;
  reopen?: () => Promise<S>;
  cleanup: () => Promise<void>;
}

/** The running test's stores, as the contract's tests see them. */
export interface FixtureAccess<S> {
  /** The fresh store of the running test. */
  store(): S;
  /** A second store on the same data, or a skipped test when the implementation has none. */
  reopen(ctx: TestContext): Promise<S>;
  /** Whether `reopen` works for this implementation. */
  canReopen(): boolean;
}

/**
 * Gives each test of the enclosing `describe` a fresh fixture from `make()`,
 * and closes every store it opened (then cleans up) after the test.
 */
export function useContractFixture<S extends { close(): Promise<void> }>(
  make: () => Promise<ContractFixture<S>>,
): FixtureAccess<S> {
  let fixture: ContractFixture<S>;
  let opened: S[] = [];

  beforeEach(async () => {
    fixture = await make();
    opened = [fixture.store];
  });

  afterEach(async () => {
    for (const store of opened) await store.close();
    await fixture.cleanup();
  });

  return {
    store: () => fixture.store,
    async reopen(ctx) {
      if (!fixture.reopen) {
        ctx.skip();
        throw new Error("unreachable: skipped");
      }
      const second = await fixture.reopen();
      opened.push(second);
      return second;
    },
    canReopen: () => fixture.reopen !== undefined,
  };
}
