import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { EdgeError } from "../errors.js";
import {
  decodeKvCursor,
  encodeKvCursor,
  type KvChange,
  type KvNamespace,
  type KvStore,
  kvExpired,
} from "./kv-types.js";
import { guard } from "./redis-errors.js";
import { pipelineResults } from "./redis-replies.js";
import { type LuaScript, lua } from "./redis-scripts.js";

/**
 * Workers KV on the Redis store, under the store's prefix <p>:
 *
 *   <p>kvnames            hash   namespace name -> id
 *   <p>kvns:<id>          hash   name, createdAt, version (the namespace's write counter)
 *   <p>kv:<id>:v          hash   key -> value (bytes)
 *   <p>kv:<id>:m          hash   key -> "version|deleted|expiration|metadata" (a tombstone has deleted 1)
 *   <p>kv:<id>:keys       zset   live keys, score 0 (ZRANGEBYLEX lists them in byte order)
 *   <p>kv:<id>:seq        zset   every key with the version of its last write (changes since v)
 *   <p>kv:<id>:exp        zset   keys with an expiration, scored by it (epoch seconds)
 *
 * Writes are Lua scripts, so a batch of mutations and its versions are one atomic step.
 */

const CREATE = lua(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', ARGV[4] .. ARGV[2], 'name', ARGV[1], 'createdAt', ARGV[3], 'version', 0)
return 1
`);

const RENAME = lua(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
if ARGV[2] ~= ARGV[1] and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[2], id)
redis.call('HSET', ARGV[3] .. id, 'name', ARGV[2])
return id
`);

const DELETE = lua(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local d = ARGV[3] .. id
redis.call('DEL', ARGV[2] .. id, d .. ':v', d .. ':m', d .. ':keys', d .. ':seq', d .. ':exp')
return 1
`);

/** KEYS: ns hash, v, m, keys, seq, exp. ARGV: count, then per mutation key, 'p'|'d', value, metadata ('' none: flag), has metadata, expiration ('' none). */
const WRITE = lua(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local out = {}
for i = 0, tonumber(ARGV[1]) - 1 do
  local b = 2 + i * 6
  local key = ARGV[b]
  local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
  if ARGV[b + 1] == 'd' then
    redis.call('HDEL', KEYS[2], key)
    redis.call('HSET', KEYS[3], key, version .. '|1||')
    redis.call('ZREM', KEYS[4], key)
    redis.call('ZREM', KEYS[6], key)
  else
    redis.call('HSET', KEYS[2], key, ARGV[b + 2])
    local meta = ''
    if ARGV[b + 4] == '1' then meta = 'm' .. ARGV[b + 3] end
    redis.call('HSET', KEYS[3], key, version .. '|0|' .. ARGV[b + 5] .. '|' .. meta)
    redis.call('ZADD', KEYS[4], 0, key)
    if ARGV[b + 5] == '' then redis.call('ZREM', KEYS[6], key)
    else redis.call('ZADD', KEYS[6], tonumber(ARGV[b + 5]), key) end
  end
  redis.call('ZADD', KEYS[5], version, key)
  out[#out + 1] = version
end
return out
`);

/** KEYS: v, m, keys, seq, exp. ARGV: now (epoch seconds). */
const PURGE = lua(`
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[1])
for _, key in ipairs(gone) do
  redis.call('HDEL', KEYS[1], key)
  redis.call('HDEL', KEYS[2], key)
  redis.call('ZREM', KEYS[3], key)
  redis.call('ZREM', KEYS[4], key)
  redis.call('ZREM', KEYS[5], key)
end
return #gone
`);

interface Meta {
  version: number;
  deleted: boolean;
  expiration: number | null;
  metadata: string | null;
}

function parseMeta(raw: string | null): Meta | null {
  if (raw == null) return null;
  const first = raw.indexOf("|");
  const second = raw.indexOf("|", first + 1);
  const third = raw.indexOf("|", second + 1);
  if (first < 0 || second < 0 || third < 0) {
    throw new EdgeError("EDGE_INTERNAL", "The Redis store holds an invalid KV entry");
  }
  const expiration = raw.slice(second + 1, third);
  const metadata = raw.slice(third + 1);
  return {
    version: Number(raw.slice(0, first)),
    deleted: raw.slice(first + 1, second) === "1",
    expiration: expiration === "" ? null : Number(expiration),
    metadata: metadata.startsWith("m") ? metadata.slice(1) : null,
  };
}

async function evalScript(redis: Redis, script: LuaScript, keys: string[], args: (string | Buffer)[]) {
  try {
    return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("NOSCRIPT")) {
      return redis.eval(script.lua, keys.length, ...keys, ...args);
    }
    throw error;
  }
}

const bytes = (buffer: Buffer | null): Uint8Array =>
  buffer === null ? new Uint8Array(0) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

export function redisKv(redis: Redis, prefix: string): KvStore {
  const names = `${prefix}kvnames`;
  const nsRoot = `${prefix}kvns:`;
  const dataRoot = `${prefix}kv:`;
  const data = (id: string) => ({
    v: `${dataRoot}${id}:v`,
    m: `${dataRoot}${id}:m`,
    keys: `${dataRoot}${id}:keys`,
    seq: `${dataRoot}${id}:seq`,
    exp: `${dataRoot}${id}:exp`,
  });

  const readNamespace = async (id: string): Promise<KvNamespace | null> => {
    const [name, createdAt, version] = await redis.hmget(nsRoot + id, "name", "createdAt", "version");
    if (name == null) return null;
    return { id, name, createdAt: Number(createdAt), version: Number(version ?? 0) };
  };

  const taken = (name: string) =>
    new EdgeError("EDGE_KV_NAMESPACE_EXISTS", `A KV namespace named '${name}' exists`);

  return {
    createKvNamespace: (name, now = Date.now()) =>
      guard(async () => {
        const id = randomBytes(16).toString("hex");
        const created = await evalScript(redis, CREATE, [names], [name, id, String(now), nsRoot]);
        if (created === 0) throw taken(name);
        return { id, name, createdAt: now, version: 0 };
      }),
    listKvNamespaces: () =>
      guard(async () => {
        const ids = Object.values(await redis.hgetall(names));
        const found = await Promise.all(ids.map(readNamespace));
        return found
          .filter((ns): ns is KvNamespace => ns !== null)
          .sort((a, b) => (a.name < b.name ? -1 : 1));
      }),
    getKvNamespace: (name) =>
      guard(async () => {
        const id = await redis.hget(names, name);
        return id == null ? null : readNamespace(id);
      }),
    renameKvNamespace: (name, newName) =>
      guard(async () => {
        const reply = await evalScript(redis, RENAME, [names], [name, newName, nsRoot]);
        if (reply === 0) throw taken(newName);
        return reply == null ? null : readNamespace(String(reply));
      }),
    deleteKvNamespace: (name) =>
      guard(async () => (await evalScript(redis, DELETE, [names], [name, nsRoot, dataRoot])) === 1),
    writeKv: (id, mutations) =>
      guard(async () => {
        const d = data(id);
        const args: (string | Buffer)[] = [String(mutations.length)];
        for (const m of mutations) {
          if (m.delete === true) args.push(m.key, "d", "", "", "0", "");
          else
            args.push(
              m.key,
              "p",
              Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
              m.metadata ?? "",
              m.metadata === null ? "0" : "1",
              m.expiration === null ? "" : String(m.expiration),
            );
        }
        const reply = await evalScript(redis, WRITE, [nsRoot + id, d.v, d.m, d.keys, d.seq, d.exp], args);
        return reply == null ? null : (reply as number[]).map(Number);
      }),
    readKv: (id, key, now = Date.now()) =>
      guard(async () => {
        const d = data(id);
        const [meta, value] = pipelineResults(
          await redis.multi().hget(d.m, key).hgetBuffer(d.v, key).exec(),
        ) as [string | null, Buffer | null];
        const parsed = parseMeta(meta);
        if (parsed === null || parsed.deleted || kvExpired(parsed.expiration, now)) return null;
        return {
          key,
          value: bytes(value),
          metadata: parsed.metadata,
          expiration: parsed.expiration,
          version: parsed.version,
        };
      }),
    listKv: (id, options, now = Date.now()) =>
      guard(async () => {
        const d = data(id);
        const prefix = options.prefix ?? "";
        const after = options.cursor ? decodeKvCursor(options.cursor) : null;
        const min = after !== null && after >= prefix ? `(${after}` : `[${prefix}`;
        const max = prefix === "" ? "+" : Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]);
        const raw = await redis.zrangebylex(d.keys, min, max as string, "LIMIT", 0, options.limit + 1);
        const page = raw.slice(0, options.limit);
        const metas = page.length === 0 ? [] : await redis.hmget(d.m, ...page);
        const keys = page.flatMap((name, i) => {
          const meta = parseMeta(metas[i] ?? null);
          if (meta === null || meta.deleted || kvExpired(meta.expiration, now)) return [];
          return [{ name, expiration: meta.expiration, metadata: meta.metadata }];
        });
        return { keys, cursor: raw.length > options.limit ? encodeKvCursor(page[page.length - 1]!) : null };
      }),
    kvChangesSince: (id, since, maxBytes) =>
      guard(async () => {
        const d = data(id);
        const scan = await redis.zrangebyscore(d.seq, `(${since}`, "+inf", "WITHSCORES", "LIMIT", 0, 1000);
        const keys: string[] = [];
        const scanned = new Map<string, number>();
        for (let i = 0; i + 1 < scan.length; i += 2) {
          keys.push(scan[i]!);
          scanned.set(scan[i]!, Number(scan[i + 1]));
        }
        if (keys.length === 0) return { changes: [], more: false };
        // Sizes first, values only for the keys that fit the budget: values may be 25 MiB each.
        const sizing = redis.pipeline();
        for (const key of keys) sizing.hstrlen(d.v, key);
        const sizes = pipelineResults(await sizing.exec()) as number[];
        const chosen: string[] = [];
        let size = 0;
        let more = keys.length === 1000;
        for (const [i, key] of keys.entries()) {
          const cost = (sizes[i] ?? 0) + key.length;
          if (chosen.length > 0 && size + cost > maxBytes) {
            more = true;
            break;
          }
          size += cost;
          chosen.push(key);
        }
        const [metas, values] = pipelineResults(
          await redis
            .multi()
            .hmget(d.m, ...chosen)
            .hmgetBuffer(d.v, ...chosen)
            .exec(),
        ) as [(string | null)[], (Buffer | null)[]];
        const changes: KvChange[] = chosen.flatMap((key, i) => {
          const meta = parseMeta(metas[i] ?? null);
          // Rewritten since the scan: its new version comes in a later call, in version order.
          if (meta === null || meta.version !== scanned.get(key) || (meta.deleted && since === 0)) return [];
          return [
            {
              key,
              version: meta.version,
              deleted: meta.deleted,
              value: meta.deleted ? new Uint8Array(0) : bytes(values[i] ?? null),
              metadata: meta.metadata,
              expiration: meta.expiration,
            },
          ];
        });
        changes.sort((a, b) => a.version - b.version);
        return { changes, more };
      }),
    purgeExpiredKv: (now = Date.now()) =>
      guard(async () => {
        let purged = 0;
        for (const id of Object.values(await redis.hgetall(names))) {
          const d = data(id);
          purged += Number(
            await evalScript(
              redis,
              PURGE,
              [d.v, d.m, d.keys, d.seq, d.exp],
              [String(Math.floor(now / 1000))],
            ),
          );
        }
        return purged;
      }),
  };
}
