import type { Redis } from "ioredis";
import { decodeVersion, encodePops, encodeVersion, isVersionNumber, storedInt } from "./codec.js";
import { activeChanged } from "./conflict.js";
import { guard } from "./redis-errors.js";
import type { RedisKeys } from "./redis-keys.js";
import { toSummary } from "./redis-replies.js";
import {
  DELETE_SCRIPT,
  FINISH_ROLLOUT,
  PUT_VERSION,
  runScript,
  SET_ACTIVE,
  START_ROLLOUT,
} from "./redis-scripts.js";
import type { Store } from "./types.js";

export type RedisWrites = Pick<
  Store,
  "putVersion" | "setActive" | "startRollout" | "finishRollout" | "deleteScript"
>;

/**
 * The Redis store's mutations: each is one Lua script of `redis-scripts.ts`, so
 * the write, the revision bump and the change-feed entry are one atomic step.
 */
export function redisWrites(redis: Redis, keys: RedisKeys): RedisWrites {
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
            encoded.modulesJson ?? "",
            encoded.bindingsJson,
            encoded.cronsJson,
          ],
        );
        const [version, detail] = reply as [number, number];
        if (version === 0) {
          throw activeChanged(name, options.ifActive ?? null, detail === 0 ? null : detail);
        }
        return decodeVersion(name, storedInt(version, "version"), { ...encoded, createdAt: now });
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
  };
}
