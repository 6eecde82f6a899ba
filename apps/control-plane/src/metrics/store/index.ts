export { openMetricsStore } from "./open.js";
export { createRedisMetricsStore, type RedisMetricsStoreOptions } from "./redis.js";
export { createSqliteMetricsStore } from "./sqlite.js";
export type { MetricsStore, RowQuery } from "./types.js";
