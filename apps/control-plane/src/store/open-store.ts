import type { Logger } from "pino";
import { EdgeError } from "../errors.js";
import { createRedisStore, type RedisStoreOptions } from "./redis.js";
import { isRedisSpec } from "./redis-target.js";
import { createSqliteStore } from "./sqlite.js";
import type { Store } from "./types.js";

/**
 * Opens the store named by EDGE_STORE:
 *   redis://… or rediss://…   Redis (one server shared by every replica)
 *   redis-sentinel://h1:26379,h2:26379/<master>   Redis behind a Sentinel set (see redis-target.ts)
 *   sqlite:<path> or <path>   an SQLite file (parent directory created)
 *   memory                    SQLite in memory, gone on exit (tests, demos)
 */
export async function openStore(
  spec: string,
  opts: { logger?: Logger; redis?: Pick<RedisStoreOptions, "minReplicas" | "replicaWaitMs"> } = {},
): Promise<Store> {
  const value = spec.trim();
  if (value === "") throw invalid(spec, "it is empty");
  if (value === "memory") return createSqliteStore(":memory:");
  if (isRedisSpec(value)) {
    return createRedisStore(value, { ...opts.redis, ...(opts.logger ? { logger: opts.logger } : {}) });
  }
  if (value.startsWith("sqlite:")) {
    const path = value.slice("sqlite:".length);
    if (path === "") throw invalid(spec, "sqlite: needs a file path, as in sqlite:./data/edge.db");
    return createSqliteStore(path);
  }
  // Any other `scheme:` (two or more letters, so a Windows drive letter still reads as a path).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value)?.[1];
  if (scheme !== undefined) throw invalid(spec, `the scheme "${scheme}:" is not supported`);
  return createSqliteStore(value);
}

function invalid(spec: string, reason: string): EdgeError {
  return new EdgeError(
    "EDGE_INVALID_CONFIG",
    `EDGE_STORE=${JSON.stringify(redact(spec))} is invalid: ${reason}. ` +
      "Use redis://host:6379, rediss://…, redis-sentinel://host:26379,…/<master>, sqlite:<path>, a file path, or memory",
  );
}

/** Never echo a password from a URL-like spec into logs or error messages. */
function redact(spec: string): string {
  return spec.replace(/\/\/[^/@]*@/, "//***@").replace(/sentinelPassword=[^&]*/, "sentinelPassword=***");
}
