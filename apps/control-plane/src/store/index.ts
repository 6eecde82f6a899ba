export type { CronClaim, CronClaimStore } from "./cron-claims.js";
export { openStore } from "./open-store.js";
export { createRedisStore, type RedisStoreOptions } from "./redis.js";
export { createSqliteStore } from "./sqlite.js";
export type {
  NewVersion,
  ScriptLimits,
  ScriptSummary,
  ScriptVersion,
  Snapshot,
  Store,
  VersionMeta,
} from "./types.js";
