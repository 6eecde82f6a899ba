import { EdgeError } from "../errors.js";
import { decodePops, decodeVersion, storedInt } from "./codec.js";
import { SNAPSHOT_FIELDS_PER_SCRIPT, VERSION_HASH_FIELDS } from "./redis-scripts.js";
import type {
  ScriptRollout,
  ScriptSummary,
  ScriptVersion,
  Snapshot,
  SnapshotChanges,
  SnapshotRollout,
} from "./types.js";

/** Turns the Redis store's replies (hash fields, script results, pipelines) into the Store's types. */

export function parseSnapshot(reply: (string | null)[]): Snapshot {
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

/** The `CHANGES` script's reply: null when the feed cannot tell (resynchronise from the snapshot). */
export function parseChanges(reply: (string | null)[]): SnapshotChanges | null {
  const count = storedInt(reply[1], "change count");
  if (count < 0) return null;
  const changed = reply.slice(2, 2 + count).map((name) => {
    if (name == null) throw incomplete();
    return name;
  });
  return { ...parseSnapshot([reply[0] ?? null, ...reply.slice(2 + count)]), changed: changed.sort(byName) };
}

/** A version from its `VERSION_HASH_FIELDS`. */
export function versionFrom(
  name: string,
  version: string | null | undefined,
  fields: (string | null)[],
): ScriptVersion {
  const [sha256, source, vars, limits, createdAt, secrets, tsSource, modules, bindings, crons] = fields;
  if (sha256 == null || source == null || vars == null || limits == null) throw incomplete();
  return decodeVersion(name, storedInt(version, "version"), {
    sha256,
    source,
    tsSource,
    modulesJson: modules,
    varsJson: vars,
    secretsJson: secrets,
    limitsJson: limits,
    bindingsJson: bindings,
    cronsJson: crons,
    createdAt: storedInt(createdAt, "createdAt"),
  });
}

function incomplete(): EdgeError {
  return new EdgeError("EDGE_INTERNAL", "The Redis store returned an incomplete snapshot entry");
}

/** A script hash's `SUMMARY_FIELDS`; null unless the script is live. */
export function toSummary(name: string, fields: (string | null)[]): ScriptSummary | null {
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
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("The Redis pipeline was discarded");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
