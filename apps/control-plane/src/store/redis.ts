import type { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  decodeBindings,
  decodeLimits,
  decodeSecrets,
  decodeVars,
  isVersionNumber,
  storedInt,
} from "./codec.js";
import { redisCron } from "./redis-cron.js";
import { redisEnrolments } from "./redis-enrolments.js";
import { guard, unavailable } from "./redis-errors.js";
import { type RedisKeys, redisKeys } from "./redis-keys.js";
import { redisKv } from "./redis-kv.js";
import { redisNodeStates } from "./redis-nodes.js";
import {
  byName,
  parseChanges,
  parseSnapshot,
  pipelineResults,
  toSummary,
  versionFrom,
} from "./redis-replies.js";
import {
  CHANGES,
  evalScript,
  READ_ACTIVE,
  requireReplicas,
  SNAPSHOT,
  SUMMARY_FIELDS,
  VERSION_HASH_FIELDS,
} from "./redis-scripts.js";
import { newRedis } from "./redis-target.js";
import { watchChanges } from "./redis-watch.js";
import { redisWrites } from "./redis-writes.js";
import type { ScriptSummary, ScriptVersion, Store, VersionMeta } from "./types.js";

/**
 * The cluster store: every control-plane replica talks to one Redis. Mutations
 * are Lua scripts (`redis-writes.ts`, `redis-scripts.ts`); reads are plain commands. A write
 * is as durable as the server is configured to make it: run Redis with
 * `appendonly yes` and `appendfsync always` for the "acknowledged means kept"
 * promise of `Store`.
 */

export interface RedisStoreOptions {
  /** Prepended to every key; default `edge:`. Lets several deployments (or test runs) share a server. */
  keyPrefix?: string;
  /** Receives connection errors (ioredis reconnects on its own). */
  logger?: Logger;
  /**
   * Replicas that must hold a write before it is acknowledged (Redis `WAIT` after each
   * mutation); 0 (default) acknowledges once the primary has it. With a Sentinel set, 1 or more
   * means a failover loses no acknowledged deploy.
   */
  minReplicas?: number;
  /** How long a write waits for those replicas before it fails with EDGE_STORE_UNAVAILABLE. Default 1000 ms. */
  replicaWaitMs?: number;
}

const META_FIELDS = ["sha256", "vars", "limits", "createdAt", "secrets", "bindings"] as const;

export async function createRedisStore(spec: string, opts: RedisStoreOptions = {}): Promise<Store> {
  const keys = redisKeys(opts.keyPrefix ?? "edge:");
  const log = opts.logger?.child({ component: "store", backend: "redis" });
  const redis = newRedis(spec, {
    lazyConnect: true,
    // Fail a command after one reconnect attempt instead of queueing it for long:
    // the API answers 503 and /readyz reports the outage.
    maxRetriesPerRequest: 1,
    // A write whose reply was lost may have been applied; resending it could
    // create a second version, so it fails instead.
    autoResendUnfulfilledCommands: false,
  });
  if ((opts.minReplicas ?? 0) > 0) {
    requireReplicas(redis, { replicas: opts.minReplicas ?? 0, timeoutMs: opts.replicaWaitMs ?? 1_000 });
  }
  // Without a listener ioredis prints connection errors to the console.
  redis.on("error", (error: Error) => log?.warn({ err: error }, "redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw unavailable(error);
  }
  return redisStore(redis, keys, log, opts.keyPrefix ?? "edge:");
}

function redisStore(redis: Redis, keys: RedisKeys, log: Logger | undefined, prefix: string): Store {
  const readVersion = async (name: string, version: string): Promise<ScriptVersion | null> => {
    const fields = await redis.hmget(keys.version(name, version), ...VERSION_HASH_FIELDS);
    const [sha256, source, vars, limits] = fields;
    if (sha256 == null || source == null || vars == null || limits == null) return null;
    return versionFrom(name, version, fields);
  };

  const nodes = redisNodeStates(redis, keys.nodes);
  const enrolments = redisEnrolments(redis, keys.enrolments);

  const readSummary = async (name: string): Promise<ScriptSummary | null> =>
    toSummary(name, await redis.hmget(keys.script(name), ...SUMMARY_FIELDS));

  return {
    // Workers KV (`redis-kv.ts`).
    ...redisKv(redis, prefix),
    // Cron Triggers' tick claims (`redis-cron.ts`).
    ...redisCron(redis, prefix),
    // The mutations, one Lua script each.
    ...redisWrites(redis, keys),

    getActive: (name) =>
      guard(async () => {
        const reply = (await evalScript(
          redis,
          READ_ACTIVE,
          [keys.script(name)],
          [keys.versionPrefix(name)],
        )) as (string | null)[] | null;
        if (reply == null) return null;
        const [active, ...fields] = reply;
        const [sha256, source, vars, limits] = fields;
        // A version deleted meanwhile (or a script half-written by a crash): not live.
        if (sha256 == null || source == null || vars == null || limits == null) return null;
        return versionFrom(name, active, fields);
      }),

    getVersion: (name, version) =>
      guard(async () => (isVersionNumber(version) ? readVersion(name, String(version)) : null)),

    getSummary: (name) => guard(() => readSummary(name)),

    listScripts: (page) =>
      guard(async () => {
        let names = (await redis.smembers(keys.scripts)).sort(byName);
        if (page !== undefined) {
          // Names only are sorted here; summaries are read for the page alone.
          const after = page.after ?? "";
          const start = after === "" ? 0 : names.findIndex((name) => name > after);
          names =
            start === -1 ? [] : names.slice(start, page.limit === undefined ? undefined : start + page.limit);
        }
        const pipeline = redis.pipeline();
        for (const name of names) pipeline.hmget(keys.script(name), ...SUMMARY_FIELDS);
        const replies = pipelineResults(await pipeline.exec());
        return names.flatMap((name, i) => toSummary(name, replies[i] as (string | null)[]) ?? []);
      }),

    listVersions: (name) =>
      guard(async () => {
        const versions = await redis.zrevrange(keys.versions(name), 0, -1);
        const pipeline = redis.pipeline();
        for (const version of versions) pipeline.hmget(keys.version(name, version), ...META_FIELDS);
        const replies = pipelineResults(await pipeline.exec());
        return versions.flatMap((version, i): VersionMeta[] => {
          const [sha256, vars, limits, createdAt, secrets, bindings] = replies[i] as (string | null)[];
          // A version deleted between the two reads is simply not listed.
          if (sha256 == null || vars == null || limits == null) return [];
          const where = `${name}@${version}`;
          return [
            {
              name,
              version: storedInt(version, "version"),
              sha256,
              vars: decodeVars(vars, where),
              secrets: decodeSecrets(secrets, where),
              bindings: decodeBindings(bindings, where),
              limits: decodeLimits(limits, where),
              createdAt: storedInt(createdAt, "createdAt"),
            },
          ];
        });
      }),

    snapshot: () =>
      guard(async () => {
        const reply = (await evalScript(
          redis,
          SNAPSHOT,
          [keys.scripts, keys.revision],
          [keys.scriptPrefix, keys.versionRoot],
        )) as (string | null)[];
        return parseSnapshot(reply);
      }),

    changesSince: (revision) =>
      guard(async () => {
        const reply = (await evalScript(
          redis,
          CHANGES,
          [keys.revision, keys.changes],
          [keys.scriptPrefix, keys.versionRoot, revision],
        )) as (string | null)[];
        return parseChanges(reply);
      }),

    revision: () => guard(async () => storedInt((await redis.get(keys.revision)) ?? "0", "revision")),

    watch: (handlers) => watchChanges(redis, keys.changes, handlers, log),

    saveNodeStates: (states) => guard(() => nodes.save(states)),
    listNodeStates: () => guard(() => nodes.list()),
    pruneNodeStates: (lastSeenBefore) => guard(() => nodes.prune(lastSeenBefore)),

    createEnrolment: (enrolment) => guard(() => enrolments.create(enrolment)),
    getEnrolment: (nodeId) => guard(() => enrolments.get(nodeId)),
    listEnrolments: () => guard(() => enrolments.list()),
    deleteEnrolment: (nodeId) => guard(() => enrolments.delete(nodeId)),

    ping: () =>
      guard(async () => {
        await redis.ping();
      }),

    close: async () => {
      if (redis.status === "end") return;
      if (redis.status === "ready") {
        try {
          await redis.quit();
          return;
        } catch {
          // The connection broke while quitting: drop it below.
        }
      }
      redis.disconnect();
    },
  };
}
