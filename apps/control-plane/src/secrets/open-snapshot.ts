import { isEdgeError } from "../errors.js";
import type { ScriptVersion, Snapshot } from "../store/types.js";
import type { SecretBox } from "./secret-box.js";

export interface OpenedSnapshot {
  /** The snapshot with every version's secrets opened and merged into its vars (its `secrets` empty). */
  snapshot: Snapshot;
  /** Scripts whose secrets could not be opened, with why: publish nothing new of them. */
  problems: Array<{ name: string; problem: string }>;
}

/**
 * Where secrets leave the store for nodes: the push hub opens them here,
 * right before building the wire config, and nodes see them as ordinary env
 * entries (the wire has no separate field). Versions without secrets pass
 * through untouched; with no key (`box` null) a version with secrets is a problem.
 */
export function openSnapshotSecrets(snapshot: Snapshot, box: SecretBox | null): OpenedSnapshot {
  const problems: OpenedSnapshot["problems"] = [];
  const open = (version: ScriptVersion): ScriptVersion => {
    const names = Object.keys(version.secrets);
    if (names.length === 0) return version;
    if (box === null) {
      problems.push({
        name: version.name,
        problem: `version ${version.version} has secrets but EDGE_SECRETS_KEY is not set`,
      });
      return version;
    }
    const vars = { ...version.vars };
    try {
      for (const name of names) vars[name] = box.open(version.name, name, version.secrets[name]!);
    } catch (error) {
      if (!isEdgeError(error)) throw error;
      problems.push({ name: version.name, problem: `version ${version.version}: ${error.message}` });
      return version;
    }
    return { ...version, vars, secrets: {} };
  };
  return {
    snapshot: {
      revision: snapshot.revision,
      scripts: snapshot.scripts.map(open),
      rollouts: snapshot.rollouts.map((rollout) => ({ ...rollout, target: open(rollout.target) })),
    },
    problems,
  };
}
