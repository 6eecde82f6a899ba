import type { Resource } from "./desired.js";

export interface ConfigDelta {
  upserts: Resource[];
  removals: string[];
}

/**
 * What a node must change to run `desired`, given what it holds (or will hold
 * once it has applied everything already sent), compared by release key. A
 * release the node rejected is not sent again: resending it would only be
 * rejected again, in a loop. A withheld name (it failed the consistency
 * check) is neither sent nor removed: the node keeps what it has.
 */
export function diffConfig(
  desired: ReadonlyMap<string, Resource>,
  held: ReadonlyMap<string, string>,
  rejected: ReadonlyMap<string, string>,
  withheld: ReadonlySet<string> = new Set(),
): ConfigDelta {
  const upserts: Resource[] = [];
  for (const resource of desired.values()) {
    if (held.get(resource.name) === resource.key) continue;
    if (rejected.get(resource.name) === resource.key) continue;
    upserts.push(resource);
  }
  const removals = [...held.keys()].filter((name) => !desired.has(name) && !withheld.has(name)).sort();
  upserts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { upserts, removals };
}

export function isEmptyDelta(delta: ConfigDelta): boolean {
  return delta.upserts.length === 0 && delta.removals.length === 0;
}

/**
 * Splits a delta into pushes of at most `budget` bytes each (a resource never
 * exceeds it: the consistency check withholds bigger ones). Removals travel in
 * the last push, after every upsert, so a node never drops something before
 * it holds what replaces it.
 */
export function packDelta(delta: ConfigDelta, budget: number): ConfigDelta[] {
  const packs: ConfigDelta[] = [];
  let current: ConfigDelta = { upserts: [], removals: [] };
  let used = 0;
  for (const resource of delta.upserts) {
    if (current.upserts.length > 0 && used + resource.bytes > budget) {
      packs.push(current);
      current = { upserts: [], removals: [] };
      used = 0;
    }
    current.upserts.push(resource);
    used += resource.bytes;
  }
  current.removals = delta.removals;
  packs.push(current);
  return packs;
}
