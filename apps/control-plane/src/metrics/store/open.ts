import type { Logger } from "pino";
import { isRedisSpec } from "../../store/redis-target.js";
import { createRedisMetricsStore } from "./redis.js";
import { createSqliteMetricsStore } from "./sqlite.js";
import type { MetricsStore } from "./types.js";

/**
 * Opens the metrics history on the same EDGE_STORE as the script store
 * (which has already validated the spec): the same Redis, the same SQLite
 * file, or a memory database of its own for `memory`.
 */
export async function openMetricsStore(
  spec: string,
  options: { logger?: Logger; ttlMs?: number } = {},
): Promise<MetricsStore> {
  const value = spec.trim();
  if (value === "memory") return createSqliteMetricsStore(":memory:");
  if (isRedisSpec(value)) return createRedisMetricsStore(value, options);
  return createSqliteMetricsStore(value.startsWith("sqlite:") ? value.slice("sqlite:".length) : value);
}
