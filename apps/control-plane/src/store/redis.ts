import { Redis } from "ioredis";
import type { Logger } from "pino";
import { EdgeError, isEdgeError } from "../errors.js";
import {
  decodeLimits,
  decodePops,
  decodeSecrets,
  decodeVars,
  decodeVersion,
  encodePops,
  encodeVersion,
  isVersionNumber,
  storedInt,
} from "./codec.js";
import { activeChanged } from "./conflict.js";
import { type RedisKeys, redisKeys } from "./redis-keys.js";
import { redisNodeStates } from "./redis-nodes.js";
import {
  DELETE_SCRIPT,
  FINISH_ROLLOUT,
  PUT_VERSION,
  runScript,
  SET_ACTIVE,
  SNAPSHOT,
  SNAPSHOT_FIELDS_PER_SCRIPT,
  START_ROLLOUT,
  SUMMARY_FIELDS,
  VERSION_HASH_FIELDS,
} from "./redis-scripts.js";
import { watchChanges } from "./redis-watch.js";
import type {
  ScriptRollout,
  ScriptSummary,
  ScriptVersion,
  Snapshot,
  SnapshotRollout,
  Store,
  VersionMeta,
} from "./types.js";

/**
 * The cluster store: every control-plane replica talks to one Redis. Mutations
 * are Lua scripts (see `redis-scripts.ts`); reads are plain commands. A write
 * is as durable as the server is configured to make it: run Redis with
 * `appendonly yes` and `appendfsync always` for the "acknowledged means kept"
 * promise of `Store`.
 */

export interface RedisStoreOptions {
  /** Prepended to every key; default `edge:`. Lets several deployments (or test runs) share a server. */
  keyPrefix?: string;
  /** Receives connection errors (ioredis reconnects on its own). */
  logger?: Logger;
}

const META_FIELDS = ["sha256", "vars", "limits", "createdAt", "secrets"] as const;

export async function createRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<Store> {
  const keys = redisKeys(opts.keyPrefix ?? "edge:");
  const log = opts.logger?.child({ component: "store", backend: "redis" });
  const redis = new Redis(url, {
    lazyConnect: true,
    // Fail a command after one reconnect attempt instead of queueing it for long:
    // the API answers 503 and /readyz reports the outage.
    maxRetriesPerRequest: 1,
    // A write whose reply was lost may have been applied; resending it could
    // create a second version, so it fails instead.
    autoResendUnfulfilledCommands: false,
  });
  // Without a listener ioredis prints connection errors to the console.
  redis.on("error", (error: Error) => log?.warn({ err: error }, "redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw unavailable(error);
  }
  return redisStore(redis, keys, log);
}

function redisStore(redis: Redis, keys: RedisKeys, log: Logger | undefined): Store {
  const readVersion = async (name: string, version: string): Promise<ScriptVersion | null> => {
    const fields = await redis.hmget(keys.version(name, version), ...VERSION_HASH_FIELDS);
    const [sha256, source, vars, limits] = fields;
    if (sha256 == null || source == null || vars == null || limits == null) return null;
    return versionFrom(name, version, fields);
  };

  const nodes = redisNodeStates(redis, keys.nodes);

  const readSummary = async (name: string): Promise<ScriptSummary | null> =>
    toSummary(name, await redis.hmget(keys.script(name), ...SUMMARY_FIELDS));

  return {
    putVersion: (name, input, now = Date.now(), options = {}) =>
      guard(async () => {
        const encoded = encodeVersion(input);
        const reply = await runScript(
          redis,
          PUT_VERSION,
          [keys.script(name), keys.versions(name), keys.scripts, keys.revision, keys.changes],
          [
            keys.versionPrefix(name),
            name,
            encoded.sha256,
            encoded.source,
            encoded.varsJson,
            encoded.limitsJson,
            now,
            options.activate === false ? "0" : "1",
            encoded.secretsJson,
            encoded.tsSource === null ? "0" : "1",
            encoded.tsSource ?? "",
            options.ifActive === undefined ? "" : String(options.ifActive ?? 0),
          ],
        );
        const [version, detail] = reply as [number, number];
        if (version === 0) {
          throw activeChanged(name, options.ifActive ?? null, detail === 0 ? null : detail);
        }
        return decodeVersion(name, storedInt(version, "version"), { ...encoded, createdAt: now });
      }),

    getActive: (name) =>
      guard(async () => {
        const active = await redis.hget(keys.script(name), "active");
        return active == null ? null : readVersion(name, active);
      }),

    getVersion: (name, version) =>
      guard(async () => (isVersionNumber(version) ? readVersion(name, String(version)) : null)),

    getSummary: (name) => guard(() => readSummary(name)),

    listScripts: () =>
      guard(async () => {
        const names = (await redis.smembers(keys.scripts)).sort(byName);
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
          const [sha256, vars, limits, createdAt, secrets] = replies[i] as (string | null)[];
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
              limits: decodeLimits(limits, where),
              createdAt: storedInt(createdAt, "createdAt"),
            },
          ];
        });
      }),

    setActive: (name, version, now = Date.now()) =>
      guard(async () => {
        if (!isVersionNumber(version)) return null;
        const reply = await runScript(
          redis,
          SET_ACTIVE,
          [keys.script(name), keys.versions(name), keys.revision, keys.changes],
          [String(version), now, name],
        );
        return reply == null ? null : toSummary(name, reply as (string | null)[]);
      }),

    startRollout: (name, target, now = Date.now()) =>
      guard(async () => {
        if (!isVersionNumber(target.version)) return null;
        const reply = await runScript(
          redis,
          START_ROLLOUT,
          [keys.script(name), keys.versions(name), keys.revision, keys.changes],
          [
            String(target.version),
            "percent" in target ? String(target.percent) : "",
            "pops" in target ? encodePops(target.pops) : "",
            now,
            name,
          ],
        );
        return reply == null ? null : toSummary(name, reply as (string | null)[]);
      }),

    finishRollout: (name, outcome, now = Date.now()) =>
      guard(async () => {
        const reply = await runScript(
          redis,
          FINISH_ROLLOUT,
          [keys.script(name), keys.revision, keys.changes],
          [outcome, now, name],
        );
        return reply == null ? null : toSummary(name, reply as (string | null)[]);
      }),

    deleteScript: (name) =>
      guard(async () => {
        const reply = await runScript(
          redis,
          DELETE_SCRIPT,
          [keys.script(name), keys.versions(name), keys.scripts, keys.revision, keys.changes],
          [keys.versionPrefix(name), name],
        );
        return reply === 1;
      }),

    snapshot: () =>
      guard(async () => {
        const reply = (await runScript(
          redis,
          SNAPSHOT,
          [keys.scripts, keys.revision],
          [keys.scriptPrefix, keys.versionRoot],
        )) as (string | null)[];
        return parseSnapshot(reply);
      }),

    revision: () => guard(async () => storedInt((await redis.get(keys.revision)) ?? "0", "revision")),

    watch: (handlers) => watchChanges(redis, keys.changes, handlers, log),

    saveNodeStates: (states) => guard(() => nodes.save(states)),
    listNodeStates: () => guard(() => nodes.list()),
    pruneNodeStates: (lastSeenBefore) => guard(() => nodes.prune(lastSeenBefore)),

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

function parseSnapshot(reply: (string | null)[]): Snapshot {
  const revision = storedInt(reply[0], "revision");
  const scripts: ScriptVersion[] = [];
  const rollouts: SnapshotRollout[] = [];
  const n = VERSION_HASH_FIELDS.length;
  for (let i = 1; i + SNAPSHOT_FIELDS_PER_SCRIPT <= reply.length; i += SNAPSHOT_FIELDS_PER_SCRIPT) {
    const [name, version, ...rest] = reply.slice(i, i + SNAPSHOT_FIELDS_PER_SCRIPT);
    if (name == null) throw incomplete();
    scripts.push(versionFrom(name, version, rest.slice(0, n)));
    const [rolloutVersion, percent, pops, startedAt] = rest.slice(n, n + 4);
    if (rolloutVersion != null) {
      rollouts.push({
        name,
        target: versionFrom(name, rolloutVersion, rest.slice(n + 4, 2 * n + 4)),
        percent: percent == null ? null : storedInt(percent, "rollout percent"),
        pops: pops == null ? null : decodePops(pops, name),
        startedAt: storedInt(startedAt, "rollout start"),
      });
    }
  }
  scripts.sort((a, b) => byName(a.name, b.name));
  rollouts.sort((a, b) => byName(a.name, b.name));
  return { revision, scripts, rollouts };
}

/** A version from its `VERSION_HASH_FIELDS`. */
function versionFrom(
  name: string,
  version: string | null | undefined,
  fields: (string | null)[],
): ScriptVersion {
  const [sha256, source, vars, limits, createdAt, secrets, tsSource] = fields;
  if (sha256 == null || source == null || vars == null || limits == null) throw incomplete();
  return decodeVersion(name, storedInt(version, "version"), {
    sha256,
    source,
    tsSource,
    varsJson: vars,
    secretsJson: secrets,
    limitsJson: limits,
    createdAt: storedInt(createdAt, "createdAt"),
  });
}

function incomplete(): EdgeError {
  return new EdgeError("EDGE_INTERNAL", "The Redis store returned an incomplete snapshot entry");
}

/** A script hash's `SUMMARY_FIELDS`; null unless the script is live. */
function toSummary(name: string, fields: (string | null)[]): ScriptSummary | null {
  const [active, latest, createdAt, updatedAt, rolloutVersion, percent, pops, startedAt] = fields;
  if (active == null) return null;
  const rollout: ScriptRollout | null =
    rolloutVersion == null
      ? null
      : {
          version: storedInt(rolloutVersion, "rollout version"),
          percent: percent == null ? null : storedInt(percent, "rollout percent"),
          pops: pops == null ? null : decodePops(pops, name),
          startedAt: storedInt(startedAt, "rollout start"),
        };
  return {
    name,
    activeVersion: storedInt(active, "active version"),
    latestVersion: storedInt(latest, "latest version"),
    createdAt: storedInt(createdAt, "createdAt"),
    updatedAt: storedInt(updatedAt, "updatedAt"),
    rollout,
  };
}

/** Code-unit order, the same order SQLite's default collation gives ASCII names. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("The Redis pipeline was discarded");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Any failure to talk to Redis becomes EDGE_STORE_UNAVAILABLE (503); our own errors pass through. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw isEdgeError(error) ? error : unavailable(error);
  }
}

function unavailable(error: unknown): EdgeError {
  const message = error instanceof Error ? error.message : String(error);
  return new EdgeError("EDGE_STORE_UNAVAILABLE", `Redis store: ${message}`, { cause: error });
}
