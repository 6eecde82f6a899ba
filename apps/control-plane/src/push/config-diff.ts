import type { Script } from "@edge/protocol";
import type { ScriptVersion } from "../store/types.js";

export interface ConfigDelta {
  upserts: ScriptVersion[];
  removals: string[];
}

/**
 * What a node must change to run `desired`, given what it holds (or will hold
 * once it has applied everything already sent). A version the node rejected is
 * not sent again: resending it would only be rejected again, in a loop.
 */
export function diffConfig(
  desired: readonly ScriptVersion[],
  held: ReadonlyMap<string, number>,
  rejected: ReadonlyMap<string, number>,
): ConfigDelta {
  const upserts: ScriptVersion[] = [];
  const live = new Set<string>();
  for (const script of desired) {
    live.add(script.name);
    if (held.get(script.name) === script.version) continue;
    if (rejected.get(script.name) === script.version) continue;
    upserts.push(script);
  }
  const removals = [...held.keys()].filter((name) => !live.has(name)).sort();
  upserts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { upserts, removals };
}

export function isEmptyDelta(delta: ConfigDelta): boolean {
  return delta.upserts.length === 0 && delta.removals.length === 0;
}

/** The store's view of a version, as it travels on the wire. */
export function toWireScript(version: ScriptVersion): Script {
  return {
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    source: version.source,
    vars: { ...version.vars },
    limits: { cpuMs: version.limits.cpuMs, memoryMb: version.limits.memoryMb, wallMs: version.limits.wallMs },
    createdAtMs: version.createdAt,
  };
}
