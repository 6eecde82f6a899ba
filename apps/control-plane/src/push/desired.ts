import { releaseKey, type Script } from "@edge/protocol";
import type { ScriptVersion, Snapshot, SnapshotRollout } from "../store/types.js";
import { ChangeJournal } from "./change-journal.js";
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

/** What changed, already opened and checked by the hub: `changed` names all, the rest holds the live ones. */
export interface DesiredChanges extends Snapshot {
  changed: readonly string[];
  /** Names among `changed` whose new state failed the consistency check. */
  withheld: ReadonlySet<string>;
}

/**
 * The desired config of the store, resolved per PoP on demand (a rollout by
 * PoPs gives each PoP its own set) and cached, so a thousand nodes of a few
 * PoPs share a handful of resolved sets and wire objects. It starts from a
 * snapshot and then follows the store change by change (`apply`): the work of
 * a deploy is that of the scripts it changed, whatever the store holds, and
 * the journal tells each stream which names moved since the revision it was
 * last sent (`changedSince`).
 */
export class DesiredConfig {
  #revision: number;
  /** Names whose resource failed the consistency check: nodes keep what they hold. */
  readonly #withheld = new Set<string>();
  readonly #active = new Map<string, ScriptVersion>();
  readonly #rollouts = new Map<string, SnapshotRollout>();
  readonly #live = new Set<string>();
  readonly #byPop = new Map<string, Map<string, Resource>>();
  readonly #wire = new Map<string, Script>();
  readonly #journal: ChangeJournal;

  constructor(snapshot: Snapshot, withheld: ReadonlySet<string> = new Set()) {
    this.#revision = snapshot.revision;
    this.#journal = new ChangeJournal(snapshot.revision);
    for (const name of withheld) {
      this.#withheld.add(name);
      this.#live.add(name);
    }
    for (const script of snapshot.scripts) {
      this.#live.add(script.name);
      if (!withheld.has(script.name)) this.#active.set(script.name, script);
    }
    for (const rollout of snapshot.rollouts) {
      if (!withheld.has(rollout.name)) this.#rollouts.set(rollout.name, rollout);
    }
  }

  get revision(): number {
    return this.#revision;
  }

  get withheld(): ReadonlySet<string> {
    return this.#withheld;
  }

  /** Every live script's name, withheld ones included (kept up to date: do not hold on to it across awaits). */
  scriptNames(): ReadonlySet<string> {
    return this.#live;
  }

  /**
   * Moves to `changes.revision`: each changed name takes its new state (or is
   * gone), and every PoP set resolved so far is updated for those names only.
   * Changes at or below the current revision are already in (a concurrent
   * read got there first): ignored, false.
   */
  apply(changes: DesiredChanges): boolean {
    if (changes.revision <= this.#revision) return false;
    const scripts = new Map(changes.scripts.map((s) => [s.name, s] as const));
    const rollouts = new Map(changes.rollouts.map((r) => [r.name, r] as const));
    for (const name of changes.changed) {
      this.#forgetWire(name);
      this.#active.delete(name);
      this.#rollouts.delete(name);
      this.#withheld.delete(name);
      this.#live.delete(name);
      const script = scripts.get(name);
      if (script !== undefined || changes.withheld.has(name)) this.#live.add(name);
      if (changes.withheld.has(name)) {
        this.#withheld.add(name);
      } else if (script !== undefined) {
        this.#active.set(name, script);
        const rollout = rollouts.get(name);
        if (rollout !== undefined) this.#rollouts.set(name, rollout);
      }
      for (const [pop, resolved] of this.#byPop) {
        const active = this.#active.get(name);
        if (active === undefined) resolved.delete(name);
        else resolved.set(name, this.#resolve(active, pop));
      }
    }
    this.#revision = changes.revision;
    this.#journal.record(changes.revision, changes.changed);
    return true;
  }

  /**
   * The names whose desired resource may differ from what they were at
   * `revision`; null when the journal no longer reaches back that far (compare everything).
   */
  changedSince(revision: number): ReadonlySet<string> | null {
    return this.#journal.since(revision);
  }

  /** name -> resource, for a node of `pop` (kept up to date by `apply`). */
  forPop(pop: string): ReadonlyMap<string, Resource> {
    let resolved = this.#byPop.get(pop);
    if (resolved === undefined) {
      resolved = new Map();
      for (const [name, active] of this.#active) resolved.set(name, this.#resolve(active, pop));
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

  /** Drops the wire objects of a name's current versions (it is about to change). */
  #forgetWire(name: string): void {
    const active = this.#active.get(name);
    if (active !== undefined) this.#wire.delete(`${name}@${active.version}`);
    const rollout = this.#rollouts.get(name);
    if (rollout !== undefined) this.#wire.delete(`${name}@${rollout.target.version}`);
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
