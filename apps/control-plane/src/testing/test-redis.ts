import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "./redis-server.js";

/**
 * The Redis a test suite should use: EDGE_TEST_REDIS_URL when set (a shared
 * server, so each caller takes its own key prefix and `stop()` deletes those
 * keys), otherwise a fresh `redis-server` child that `stop()` kills.
 */
export interface TestRedis {
  url: string;
  /** The spawned server, or null when EDGE_TEST_REDIS_URL is used (it cannot be restarted). */
  server: RedisServer | null;
  /** A key prefix no other test run uses, e.g. `edge-test:<uuid>:`. */
  uniquePrefix(): string;
  stop(): Promise<void>;
}

export async function startTestRedis(opts: { appendonly?: boolean } = {}): Promise<TestRedis> {
  const external = process.env.EDGE_TEST_REDIS_URL;
  const prefixes: string[] = [];
  const uniquePrefix = (): string => {
    const prefix = `edge-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  if (external) {
    return {
      url: external,
      server: null,
      uniquePrefix,
      stop: async () => {
        for (const prefix of prefixes) await deleteRedisKeys(external, prefix);
      },
    };
  }
  const server = await startRedisServer(opts.appendonly === undefined ? {} : { appendonly: opts.appendonly });
  return { url: server.url, server, uniquePrefix, stop: () => server.stop() };
}

/** Deletes every key that starts with `prefix`; returns how many there were. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {
    // Reported by the failing command below.
  });
  await redis.connect();
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (batch.length > 0) deleted += await redis.unlink(...batch);
    } while (cursor !== "0");
    return deleted;
  } finally {
    await redis.quit();
  }
}
