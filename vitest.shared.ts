import { defineConfig } from "vitest/config";

/**
 * One vitest setup for every workspace. isolated-vm needs --no-node-snapshot on
 * Node >= 20, so tests run in forked processes that carry that flag.
 */
export function sharedConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    test: {
      include: overrides.include ?? ["src/**/*.test.ts", "test/**/*.test.ts"],
      pool: "forks",
      poolOptions: { forks: { execArgv: ["--no-node-snapshot"] } },
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 30_000,
    },
  });
}
