import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * The Redis store's mutations as Lua scripts: Redis runs each one atomically,
 * so numbering a version, activating it and bumping the revision is one step,
 * and two control-plane replicas writing at once can never take the same
 * version number. Key names follow `redis-keys.ts`.
 */

export interface LuaScript {
  lua: string;
  sha1: string;
}

function lua(source: string): LuaScript {
  return { lua: source, sha1: createHash("sha1").update(source).digest("hex") };
}

/**
 * KEYS: script hash, versions zset, scripts set, revision.
 * ARGV: version key prefix, name, sha256, source, vars JSON, limits JSON, now.
 * Returns { version, revision }.
 */
export const PUT_VERSION = lua(`
local version = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0') + 1
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then
  redis.call('HSET', KEYS[1], 'createdAt', ARGV[7])
end
redis.call('HSET', ARGV[1] .. version, 'sha256', ARGV[3], 'source', ARGV[4], 'vars', ARGV[5],
  'limits', ARGV[6], 'createdAt', ARGV[7])
redis.call('ZADD', KEYS[2], version, version)
redis.call('HSET', KEYS[1], 'latest', version, 'active', version, 'updatedAt', ARGV[7])
redis.call('SADD', KEYS[3], ARGV[2])
return { version, redis.call('INCR', KEYS[4]) }
`);

/**
 * KEYS: script hash, versions zset, revision. ARGV: version, now.
 * Returns the script hash's active, latest, createdAt, updatedAt, or nil if the
 * script is not live or has no such version.
 */
export const SET_ACTIVE = lua(`
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then return false end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
redis.call('HSET', KEYS[1], 'active', ARGV[1], 'updatedAt', ARGV[2])
redis.call('INCR', KEYS[3])
return redis.call('HMGET', KEYS[1], 'active', 'latest', 'createdAt', 'updatedAt')
`);

/**
 * KEYS: script hash, versions zset, scripts set, revision. ARGV: version key prefix, name.
 * Keeps only the hash's `latest`, so the counter survives. Returns 1, or 0 if not live.
 */
export const DELETE_SCRIPT = lua(`
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then return 0 end
for _, version in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[1] .. version)
end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'active', 'createdAt', 'updatedAt')
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('INCR', KEYS[4])
return 1
`);

/**
 * KEYS: scripts set, revision. ARGV: script key prefix, version key root.
 * Returns revision, then per live script: name, version, sha256, source, vars,
 * limits, createdAt. Read in one script so the revision matches the scripts;
 * it copies every active source, which is fine for the sizes a control plane holds.
 */
export const SNAPSHOT = lua(`
local out = { redis.call('GET', KEYS[2]) or '0' }
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local active = redis.call('HGET', ARGV[1] .. name, 'active')
  if active then
    local v = redis.call('HMGET', ARGV[2] .. name .. ':' .. active,
      'sha256', 'source', 'vars', 'limits', 'createdAt')
    if v[1] then
      out[#out + 1] = name
      out[#out + 1] = active
      for i = 1, 5 do out[#out + 1] = v[i] end
    end
  end
end
return out
`);

export const SNAPSHOT_FIELDS_PER_SCRIPT = 7;

/** EVALSHA, falling back to EVAL when the server's script cache lacks it (first use, restart). */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    // NOSCRIPT means the script did not run, so running it by source cannot apply it twice.
    if (error instanceof Error && error.message.startsWith("NOSCRIPT")) {
      return redis.eval(script.lua, keys.length, ...keys, ...args);
    }
    throw error;
  }
}
