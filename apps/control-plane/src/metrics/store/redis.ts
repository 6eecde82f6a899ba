import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { EdgeError, isEdgeError } from "../../errors.js";
import { newRedis } from "../../store/redis-target.js";
import { emptyFigures, type Figures, type MetricsRow, minuteOf } from "../figures.js";
import type { MetricsStore, RowQuery } from "./types.js";

/**
 * Metrics history in Redis, under the same prefix as the script store:
 *
 *   <p>metrics:scripts                               set   scripts that have buckets
 *   <p>metrics:index:<script>                        zset  "<minute>:<version>:<nodeId>", score = minute
 *   <p>metrics:bucket:<script>:<minute>:<version>:<nodeId>
 *                                                     hash  pop and the figures, one field each
 *
 * A flush is one MULTI of HINCRBYFLOATs, so replicas writing the same bucket
 * add up. Buckets expire on their own (`ttlMs`, a little over the retention)
 * even if no replica prunes.
 */
export interface RedisMetricsStoreOptions {
  keyPrefix?: string;
  /** How long a bucket key lives after its last write. Default 25 h. */
  ttlMs?: number;
  logger?: Logger;
}

export async function createRedisMetricsStore(
  url: string,
  options: RedisMetricsStoreOptions = {},
): Promise<MetricsStore> {
  const prefix = `${options.keyPrefix ?? "edge:"}metrics:`;
  const ttlSeconds = Math.ceil((options.ttlMs ?? 25 * 3_600_000) / 1000);
  const log = options.logger?.child({ component: "metrics-store", backend: "redis" });
  const redis = newRedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", (error: Error) => log?.warn({ err: error }, "redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw unavailable(error);
  }

  const keys = {
    scripts: `${prefix}scripts`,
    index: (script: string) => `${prefix}index:${script}`,
    bucket: (script: string, member: string) => `${prefix}bucket:${script}:${member}`,
  };

  return {
    addRows: (rows) =>
      guard(async () => {
        if (rows.length === 0) return;
        const multi = redis.multi();
        for (const row of rows) {
          const member = `${row.minute}:${row.version}:${row.nodeId}`;
          const key = keys.bucket(row.script, member);
          multi.hset(key, "pop", row.pop);
          for (const [field, value] of encodeFigures(row)) {
            if (value !== 0) multi.hincrbyfloat(key, field, value);
          }
          multi.expire(key, ttlSeconds);
          multi.zadd(keys.index(row.script), row.minute, member);
          multi.sadd(keys.scripts, row.script);
        }
        const results = await multi.exec();
        const failed = results?.find(([error]) => error !== null)?.[0];
        if (results === null || failed) throw failed ?? new Error("the metrics transaction was discarded");
      }),

    readRows: (query) => guard(() => read(redis, keys, query)),

    prune: (before) =>
      guard(async () => {
        let removed = 0;
        for (const script of await redis.smembers(keys.scripts)) {
          const members = await redis.zrangebyscore(keys.index(script), "-inf", `(${before}`);
          if (members.length === 0) continue;
          await redis
            .multi()
            .del(...members.map((m) => keys.bucket(script, m)))
            .zrem(keys.index(script), ...members)
            .exec();
          removed += members.length;
        }
        return removed;
      }),

    close: async () => {
      if (redis.status === "end") return;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

async function read(
  redis: Redis,
  keys: { scripts: string; index(s: string): string; bucket(s: string, m: string): string },
  query: RowQuery,
): Promise<MetricsRow[]> {
  const scripts = query.script !== undefined ? [query.script] : await redis.smembers(keys.scripts);
  const rows: MetricsRow[] = [];
  for (const script of scripts) {
    const members = await redis.zrangebyscore(keys.index(script), minuteOf(query.since), query.until);
    if (members.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const member of members) pipeline.hgetall(keys.bucket(script, member));
    const replies = (await pipeline.exec()) ?? [];
    members.forEach((member, i) => {
      const [error, hash] = replies[i] ?? [null, null];
      if (error) throw error;
      const fields = hash as Record<string, string> | null;
      // An index entry whose bucket expired: nothing to show.
      if (!fields || fields.pop === undefined) return;
      if (query.pop !== undefined && fields.pop !== query.pop) return;
      const [minute, version, ...node] = member.split(":");
      rows.push({
        ...decodeFigures(fields),
        minute: Number(minute),
        script,
        version: Number(version),
        nodeId: node.join(":"),
        pop: fields.pop,
      });
    });
  }
  return rows;
}

function encodeFigures(f: Figures): Array<[string, number]> {
  const fields: Array<[string, number]> = [
    ["req", f.requests],
    ["err", f.errors],
    ["cpu", f.cpuMsTotal],
    ["lat", f.latencyMsTotal],
    ["is", f.isolateStarts],
    ["ist", f.isolateStartMsTotal],
    ["ms", f.memorySamples],
    ["mb", f.memoryBytesTotal],
  ];
  for (const [i, v] of f.latencyBuckets.entries()) fields.push([`lb.${i}`, v]);
  for (const [i, v] of f.cpuBuckets.entries()) fields.push([`cb.${i}`, v]);
  for (const [cls, v] of Object.entries(f.statusClasses)) fields.push([`st.${cls}`, v]);
  for (const [code, v] of Object.entries(f.errorsByCode)) fields.push([`ec.${code}`, v]);
  for (const [key, v] of Object.entries(f.kvOps)) fields.push([`kv.${key}`, v]);
  return fields;
}

function decodeFigures(hash: Record<string, string>): Figures {
  const f = emptyFigures();
  const scalar: Record<string, keyof Figures> = {
    req: "requests",
    err: "errors",
    cpu: "cpuMsTotal",
    lat: "latencyMsTotal",
    is: "isolateStarts",
    ist: "isolateStartMsTotal",
    ms: "memorySamples",
    mb: "memoryBytesTotal",
  };
  for (const [field, raw] of Object.entries(hash)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const name = scalar[field];
    if (name !== undefined) (f[name] as number) = value;
    else if (field.startsWith("lb.")) f.latencyBuckets[Number(field.slice(3))] = value;
    else if (field.startsWith("cb.")) f.cpuBuckets[Number(field.slice(3))] = value;
    else if (field.startsWith("st.")) f.statusClasses[field.slice(3)] = value;
    else if (field.startsWith("ec.")) f.errorsByCode[field.slice(3)] = value;
    else if (field.startsWith("kv.")) f.kvOps[field.slice(3)] = value;
  }
  return f;
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isEdgeError(error) ? error : unavailable(error);
  }
}

function unavailable(cause: unknown): EdgeError {
  return new EdgeError("EDGE_STORE_UNAVAILABLE", undefined, { cause });
}
