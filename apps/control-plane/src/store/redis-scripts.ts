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

export function lua(source: string): LuaScript {
  return { lua: source, sha1: createHash("sha1").update(source).digest("hex") };
}

/** The rollout fields of a script hash; a script without them has no rollout. */
const ROLLOUT_FIELDS = "'rolloutVersion', 'rolloutPercent', 'rolloutPops', 'rolloutStartedAt'";

/** What a summary reads from a script hash, in this order (see `toSummary` in redis-replies.ts). */
export const SUMMARY_FIELDS = [
  "active",
  "latest",
  "createdAt",
  "updatedAt",
  "rolloutVersion",
  "rolloutPercent",
  "rolloutPops",
  "rolloutStartedAt",
] as const;

const SUMMARY = SUMMARY_FIELDS.map((f) => `'${f}'`).join(", ");

/**
 * Entries the change feed keeps (approximately). Readers only need to learn
 * that something changed; one that fell further behind resynchronises anyway.
 */
export const CHANGES_MAXLEN = 10_000;

/**
 * Bumps the revision and appends the change to the feed, in the same atomic
 * step as the write: no reader can see a write without its feed entry.
 */
const CHANGED = `
local function changed(revisionKey, changesKey, op, name, version)
  local rev = redis.call('INCR', revisionKey)
  redis.call('XADD', changesKey, 'MAXLEN', '~', '${CHANGES_MAXLEN}', '*',
    'rev', rev, 'op', op, 'name', name, 'version', version)
  return rev
end
`;

/**
 * KEYS: script hash, versions zset, scripts set, revision, changes.
 * ARGV: version key prefix, name, sha256, source, vars JSON, limits JSON, now,
 * activate ('1' or '0'; a script with no active version is activated anyway),
 * sealed secrets JSON, '1' when a TypeScript source follows (else '0'), TypeScript source,
 * the active version the put is conditional on ('0': not live; '': unconditional),
 * the modules JSON of a multi-module version ('' for one module), the bindings JSON,
 * the Cron Triggers JSON.
 * Returns { version, revision }, or { 0, active version or 0 } when the condition
 * failed and nothing was written. Activating ends any rollout.
 */
export const PUT_VERSION = lua(`${CHANGED}
local active = redis.call('HGET', KEYS[1], 'active') or '0'
if ARGV[12] ~= '' and active ~= ARGV[12] then return { 0, tonumber(active) } end
local version = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0') + 1
local live = active ~= '0'
if not live then
  redis.call('HSET', KEYS[1], 'createdAt', ARGV[7])
end
redis.call('HSET', ARGV[1] .. version, 'sha256', ARGV[3], 'source', ARGV[4], 'vars', ARGV[5],
  'limits', ARGV[6], 'createdAt', ARGV[7], 'secrets', ARGV[9], 'bindings', ARGV[14],
  'crons', ARGV[15])
if ARGV[10] == '1' then redis.call('HSET', ARGV[1] .. version, 'tsSource', ARGV[11]) end
if ARGV[13] ~= '' then redis.call('HSET', ARGV[1] .. version, 'modules', ARGV[13]) end
redis.call('ZADD', KEYS[2], version, version)
if ARGV[8] == '1' or not live then
  redis.call('HSET', KEYS[1], 'latest', version, 'active', version, 'updatedAt', ARGV[7])
  redis.call('HDEL', KEYS[1], ${ROLLOUT_FIELDS})
else
  redis.call('HSET', KEYS[1], 'latest', version, 'updatedAt', ARGV[7])
end
redis.call('SADD', KEYS[3], ARGV[2])
return { version, changed(KEYS[4], KEYS[5], 'put', ARGV[2], version) }
`);

/**
 * KEYS: script hash, versions zset, revision, changes. ARGV: version, now, name.
 * Returns the summary fields, or nil if the script is not live or has no such
 * version. Ends any rollout.
 */
export const SET_ACTIVE = lua(`${CHANGED}
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then return false end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
redis.call('HSET', KEYS[1], 'active', ARGV[1], 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], ${ROLLOUT_FIELDS})
changed(KEYS[3], KEYS[4], 'activate', ARGV[3], ARGV[1])
return redis.call('HMGET', KEYS[1], ${SUMMARY})
`);

/**
 * KEYS: script hash, versions zset, revision, changes.
 * ARGV: version, percent ('' with PoPs), PoPs JSON ('' with a percent), now, name.
 * Returns the summary fields, or nil if the script is not live or has no such version.
 */
export const START_ROLLOUT = lua(`${CHANGED}
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then return false end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
redis.call('HDEL', KEYS[1], ${ROLLOUT_FIELDS})
redis.call('HSET', KEYS[1], 'rolloutVersion', ARGV[1], 'rolloutStartedAt', ARGV[4], 'updatedAt', ARGV[4])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'rolloutPercent', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'rolloutPops', ARGV[3]) end
changed(KEYS[3], KEYS[4], 'rollout', ARGV[5], ARGV[1])
return redis.call('HMGET', KEYS[1], ${SUMMARY})
`);

/**
 * KEYS: script hash, revision, changes. ARGV: 'promote' or 'abort', now, name.
 * Returns the summary fields, or nil if the script has no rollout.
 */
export const FINISH_ROLLOUT = lua(`${CHANGED}
local target = redis.call('HGET', KEYS[1], 'rolloutVersion')
if not target or redis.call('HEXISTS', KEYS[1], 'active') == 0 then return false end
if ARGV[1] == 'promote' then redis.call('HSET', KEYS[1], 'active', target) end
redis.call('HDEL', KEYS[1], ${ROLLOUT_FIELDS})
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
changed(KEYS[2], KEYS[3], ARGV[1], ARGV[3], target)
return redis.call('HMGET', KEYS[1], ${SUMMARY})
`);

/**
 * KEYS: script hash, versions zset, scripts set, revision, changes. ARGV: version key prefix, name.
 * Keeps only the hash's `latest`, so the counter survives. Returns 1, or 0 if not live.
 */
export const DELETE_SCRIPT = lua(`${CHANGED}
if redis.call('HEXISTS', KEYS[1], 'active') == 0 then return 0 end
for _, version in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[1] .. version)
end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'active', 'createdAt', 'updatedAt', ${ROLLOUT_FIELDS})
redis.call('SREM', KEYS[3], ARGV[2])
changed(KEYS[4], KEYS[5], 'delete', ARGV[2], 0)
return 1
`);

/** What a version hash holds, in the order the snapshot (and `readVersion`) read it. */
export const VERSION_HASH_FIELDS = [
  "sha256",
  "source",
  "vars",
  "limits",
  "createdAt",
  "secrets",
  "tsSource",
  "modules",
  "bindings",
  "crons",
] as const;

const VERSION_HASH_LIST = VERSION_HASH_FIELDS.map((f) => `'${f}'`).join(", ");

/**
 * Appends one script's desired state to `out`, if it is live: name, version,
 * then the active version's VERSION_HASH_FIELDS, then rolloutVersion,
 * rolloutPercent, rolloutPops, rolloutStartedAt and the rolled-out version's
 * VERSION_HASH_FIELDS (nil without a rollout). ARGV[1] is the script key
 * prefix and ARGV[2] the version key root in both scripts that use it.
 */
const EMIT_SCRIPT = `
local function emit(out, name)
  local s = redis.call('HMGET', ARGV[1] .. name, 'active', 'rolloutVersion', 'rolloutPercent',
    'rolloutPops', 'rolloutStartedAt')
  if not s[1] then return end
  local fields = { ${VERSION_HASH_LIST} }
  local v = redis.call('HMGET', ARGV[2] .. name .. ':' .. s[1], unpack(fields))
  if not v[1] then return end
  out[#out + 1] = name
  out[#out + 1] = s[1]
  for i = 1, #fields do out[#out + 1] = v[i] end
  for i = 2, 5 do out[#out + 1] = s[i] end
  if s[2] then
    local t = redis.call('HMGET', ARGV[2] .. name .. ':' .. s[2], unpack(fields))
    for i = 1, #fields do out[#out + 1] = t[i] end
  else
    for _ = 1, #fields do out[#out + 1] = false end
  end
end
`;

/**
 * KEYS: scripts set, revision. ARGV: script key prefix, version key root.
 * Returns revision, then SNAPSHOT_FIELDS_PER_SCRIPT values per live script
 * (see EMIT_SCRIPT). Read in one script so the revision matches the scripts;
 * it copies every source it sends, so the push hub reads it only at start and
 * to resynchronise (`CHANGES` keeps it up to date otherwise).
 */
export const SNAPSHOT = lua(`${EMIT_SCRIPT}
local out = { redis.call('GET', KEYS[2]) or '0' }
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do emit(out, name) end
return out
`);

/**
 * KEYS: revision, changes. ARGV: script key prefix, version key root, since.
 * Walks the change feed back from its newest entry to the first after
 * revision `since` and returns the revision, how many names changed, those
 * names, then each live one's state (see EMIT_SCRIPT): what changed, in one
 * step. Every revision has exactly one feed entry, so the walk is complete
 * when it reaches revision since + 1; when the feed was trimmed before that
 * (or the revision is below `since`, the store lost writes) the count is -1:
 * read the snapshot instead.
 */
export const CHANGES = lua(`${EMIT_SCRIPT}
local revision = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[3])
if since > revision then return { tostring(revision), '-1' } end
if since == revision then return { tostring(revision), '0' } end
local names, seen = {}, {}
local oldest = revision + 1
local from = '+'
while oldest > since + 1 do
  local entries = redis.call('XREVRANGE', KEYS[2], from, '-', 'COUNT', 256)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    local f = entry[2]
    local rev, name
    for i = 1, #f, 2 do
      if f[i] == 'rev' then rev = tonumber(f[i + 1]) elseif f[i] == 'name' then name = f[i + 1] end
    end
    if rev == nil or rev <= since then
      oldest = since + 1
      break
    end
    oldest = rev
    if name and not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  from = '(' .. entries[#entries][1]
end
if oldest > since + 1 then return { tostring(revision), '-1' } end
local out = { tostring(revision), tostring(#names) }
for _, name in ipairs(names) do out[#out + 1] = name end
for _, name in ipairs(names) do emit(out, name) end
return out
`);

/**
 * KEYS: script hash. ARGV: version key prefix. Returns the active version
 * number then its VERSION_HASH_FIELDS, or nil when the script is not live:
 * `getActive` in one round trip instead of two (a deploy reads it every time).
 */
export const READ_ACTIVE = lua(`
local active = redis.call('HGET', KEYS[1], 'active')
if not active then return false end
local out = redis.call('HMGET', ARGV[1] .. active, ${VERSION_HASH_LIST})
table.insert(out, 1, active)
return out
`);

export const SNAPSHOT_FIELDS_PER_SCRIPT = 2 + VERSION_HASH_FIELDS.length + 4 + VERSION_HASH_FIELDS.length;

/** Replicas a connection's writes must reach before they count (see requireReplicas). */
const durability = new WeakMap<Redis, { replicas: number; timeoutMs: number }>();

/**
 * Makes every mutation on `redis` wait (`WAIT replicas timeoutMs`) until that many replicas hold
 * it, and fail when they do not in time: acknowledged then means on more than one server, so a
 * Sentinel failover to a replica loses no acknowledged write.
 */
export function requireReplicas(redis: Redis, rule: { replicas: number; timeoutMs: number }): void {
  durability.set(redis, rule);
}

export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  const reply = await evalScript(redis, script, keys, args);
  const rule = durability.get(redis);
  if (rule !== undefined) {
    const acked = await redis.wait(rule.replicas, rule.timeoutMs);
    if (acked < rule.replicas) {
      throw new Error(
        `the write reached ${acked} of the ${rule.replicas} replica(s) required within ${rule.timeoutMs} ms; it may still be applied`,
      );
    }
  }
  return reply;
}

/**
 * EVALSHA, falling back to EVAL when the server's script cache lacks it (first use, restart).
 * Alone (not through `runScript`) for scripts that only read: no `WAIT` for replicas.
 */
export async function evalScript(
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
