import { releaseKey, type Script } from "@edge/protocol";
import type { ScriptVersion, Snapshot, SnapshotRollout } from "../store/types.js";
import { toWireScript } from "./wire.js";

/** One script resource as a node should hold it, ready for the wire. */
export interface Resource {
  name: string;
  /** The release key both sides compare (see `releaseKey`). */
  key: string;
  script: Script;
  /** Roughly what it weighs on the wire (sources dominate), for packing pushes. */
  bytes: number;
}

/**
 * The desired config of one revision, resolved per PoP on demand (a rollout
 * by PoPs gives each PoP its own set) and cached, so a thousand nodes of a
 * few PoPs share a handful of resolved sets and wire objects.
 */
export class DesiredConfig {
  readonly revision: number;
  /** Names whose resource failed the consistency check: nodes keep what they hold. */
  readonly withheld: ReadonlySet<string>;
  readonly #active: ReadonlyMap<string, ScriptVersion>;
  readonly #rollouts: ReadonlyMap<string, SnapshotRollout>;
  readonly #byPop = new Map<string, ReadonlyMap<string, Resource>>();
  readonly #wire = new Map<string, Script>();

  constructor(snapshot: Snapshot, withheld: ReadonlySet<string> = new Set()) {
    this.revision = snapshot.revision;
    this.withheld = withheld;
    this.#active = new Map(
      snapshot.scripts.filter((s) => !withheld.has(s.name)).map((s) => [s.name, s] as const),
    );
    this.#rollouts = new Map(
      snapshot.rollouts.filter((r) => !withheld.has(r.name)).map((r) => [r.name, r] as const),
    );
  }

  /** Every live script's name, withheld ones included. */
  scriptNames(): ReadonlySet<string> {
    return new Set([...this.#active.keys(), ...this.withheld]);
  }

  /** name -> resource, for a node of `pop`. */
  forPop(pop: string): ReadonlyMap<string, Resource> {
    let resolved = this.#byPop.get(pop);
    if (resolved === undefined) {
      const map = new Map<string, Resource>();
      for (const [name, active] of this.#active) map.set(name, this.#resolve(active, pop));
      resolved = map;
      this.#byPop.set(pop, resolved);
    }
    return resolved;
  }

  #resolve(active: ScriptVersion, pop: string): Resource {
    const rollout = this.#rollouts.get(active.name);
    if (rollout === undefined) return this.#resource(this.#script(active));
    if (rollout.pops !== null) {
      return this.#resource(this.#script(rollout.pops.includes(pop) ? rollout.target : active));
    }
    const percent = rollout.percent ?? 0;
    if (percent >= 100) return this.#resource(this.#script(rollout.target));
    if (percent <= 0) return this.#resource(this.#script(active));
    const canary = this.#script(rollout.target);
    const script: Script = { ...this.#script(active), canary: { script: canary, percent } };
    return this.#resource(script);
  }

  #script(version: ScriptVersion): Script {
    const id = `${version.name}@${version.version}`;
    let wire = this.#wire.get(id);
    if (wire === undefined) {
      wire = toWireScript(version);
      this.#wire.set(id, wire);
    }
    return wire;
  }

  #resource(script: Script): Resource {
    return { name: script.name, key: releaseKey(script), script, bytes: wireBytes(script) };
  }
}

/** An upper estimate of a script's encoded size: its sources and vars, plus room for the rest. */
export function wireBytes(script: Script): number {
  let bytes = 512 + Buffer.byteLength(script.source, "utf8");
  for (const [key, value] of Object.entries(script.vars)) {
    bytes += Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8") + 8;
  }
  return script.canary?.script ? bytes + wireBytes(script.canary.script) : bytes;
}
