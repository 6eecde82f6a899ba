import { afterAll, beforeAll } from "vitest";
import { startTestRedis, type TestRedis } from "../../testing/test-redis.js";
import { metricsStoreContract } from "./contract.js";
import { createRedisMetricsStore } from "./redis.js";

let shared: TestRedis;

beforeAll(async () => {
  shared = await startTestRedis();
});

afterAll(async () => {
  await shared?.stop();
});

metricsStoreContract("redis", async () => {
  const keyPrefix = shared.uniquePrefix();
  return {
    store: await createRedisMetricsStore(shared.url, { keyPrefix }),
    reopen: () => createRedisMetricsStore(shared.url, { keyPrefix }),
    cleanup: async () => {},
  };
});
