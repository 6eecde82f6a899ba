import { randomUUID } from "node:crypto";
import { type Ack, parseReleaseKey, type ResourceError } from "@edge/protocol";
import type { Logger } from "pino";
import { type ConfigDelta, diffConfig } from "./config-diff.js";
import type { Resource } from "./desired.js";
import type { NodeRecord } from "./registry.js";

/** A push on this stream, kept until its ACK arrives. */
export interface PendingPush {
  nonce: string;
  configVersion: number;
  /** name -> release key upserted (undefined for a removal) */
  touched: Map<string, string | undefined>;
}

/**
 * What one stream knows of its node's releases, in three views: `target`
 * (what it will hold once it has applied everything sent, used for the next
 * delta), `acked` (what it confirmed: what `GET /v1/nodes` shows) and
 * `rejected` (releases it NACKed: parked, never sent again until the desired
 * release of that script changes). ACKs are matched to pushes in flight by
 * nonce, in order; a nonce not in flight (from an older stream, acknowledged
 * already, or made up) is ignored.
 */
export class NodeReleases {
  private readonly target = new Map<string, string>();
  private readonly acked = new Map<string, string>();
  private readonly rejected = new Map<string, string>();
  private readonly pending: PendingPush[] = [];

  /** Starts from the node's hello: the releases it holds and those it rejected. */
  seed(held: Record<string, string>, rejected: Record<string, string>): void {
    for (const [name, key] of Object.entries(held)) {
      this.target.set(name, key);
      this.acked.set(name, key);
    }
    for (const [name, key] of Object.entries(rejected)) this.rejected.set(name, key);
  }

  /** How many releases the node holds (or will, once it has applied everything sent). */
  get heldCount(): number {
    return this.target.size;
  }

  get parkedCount(): number {
    return this.rejected.size;
  }

  /** Script name -> parked release, as the node's record shows it. */
  parked(): Record<string, string> {
    return Object.fromEntries(this.rejected);
  }

  /** Unparks every script whose desired release changed; true if any was. */
  unpark(wanted: ReadonlyMap<string, Resource>): boolean {
    let unparked = false;
    for (const [name, key] of this.rejected) {
      if (wanted.get(name)?.key !== key) {
        this.rejected.delete(name);
        unparked = true;
      }
    }
    return unparked;
  }

  /** What the node must still change to run `wanted` (see `diffConfig`). */
  delta(wanted: ReadonlyMap<string, Resource>, withheld: ReadonlySet<string>): ConfigDelta {
    return diffConfig(wanted, this.target, this.rejected, withheld);
  }

  /**
   * `unpark` then `delta`, for `names` only: when only they changed since the
   * node was last brought to the desired config, the rest needs no look.
   * True in `unparked` if a parked script was released.
   */
  deltaOf(
    names: ReadonlySet<string>,
    wanted: ReadonlyMap<string, Resource>,
    withheld: ReadonlySet<string>,
  ): { delta: ConfigDelta; unparked: boolean } {
    let unparked = false;
    const upserts: Resource[] = [];
    const removals: string[] = [];
    for (const name of names) {
      const resource = wanted.get(name);
      const parked = this.rejected.get(name);
      if (parked !== undefined && resource?.key !== parked) {
        this.rejected.delete(name);
        unparked = true;
      }
      if (resource !== undefined) {
        const key = resource.key;
        if (this.target.get(name) !== key && this.rejected.get(name) !== key) upserts.push(resource);
      } else if (this.target.has(name) && !withheld.has(name)) {
        removals.push(name);
      }
    }
    upserts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { delta: { upserts, removals: removals.sort() }, unparked };
  }

  /** Records a push about to be sent: from now on the node is expected to hold what it carries. */
  track(pack: ConfigDelta, configVersion: number): PendingPush {
    const push: PendingPush = { nonce: randomUUID(), configVersion, touched: new Map() };
    for (const resource of pack.upserts) {
      push.touched.set(resource.name, resource.key);
      this.target.set(resource.name, resource.key);
    }
    for (const name of pack.removals) {
      push.touched.set(name, undefined);
      this.target.delete(name);
    }
    this.pending.push(push);
    return push;
  }

  /**
   * The agent applies pushes in order and ACKs each, so an ACK settles its
   * push and any still in flight before it (treated as applied, had their
   * ACKs been lost). A rejected script keeps the release the node held before
   * (`acked`) and is parked under the rejected release key. Brings `record`
   * up to date; returns the scripts the node rejected, or null for an ACK of
   * no push in flight.
   */
  settle(ack: Ack, record: NodeRecord, now: () => number, log: Logger): ReadonlySet<string> | null {
    const index = this.pending.findIndex((push) => push.nonce === ack.nonce);
    if (index < 0) {
      log.debug({ nonce: ack.nonce }, "ack of a push not in flight ignored");
      return null;
    }
    const settled = this.pending.splice(0, index + 1);
    const push = settled[settled.length - 1]!;
    for (const earlier of settled.slice(0, -1)) this.applied(earlier, new Set(), record);

    const failed = new Set<string>();
    for (const error of ack.errors) {
      if (!push.touched.has(error.name) || push.touched.get(error.name) === undefined) continue;
      const key = push.touched.get(error.name)!;
      failed.add(error.name);
      this.rejected.set(error.name, key);
      record.nackCount += 1;
      record.lastNack = {
        script: error.name,
        version: error.version,
        error: error.errorDetail,
        at: now(),
      };
      // Unless a later push already sends something else for it, the node is back where it was.
      if (!this.pending.some((later) => later.touched.has(error.name))) {
        const held = this.acked.get(error.name);
        if (held === undefined) this.target.delete(error.name);
        else this.target.set(error.name, held);
      }
      log.warn(
        { script: error.name, version: error.version, release: key, error: error.errorDetail },
        "node rejected a script; parked until its desired release changes",
      );
    }
    this.applied(push, failed, record);
    record.configVersion = push.configVersion;
    record.lastAckHadErrors = failed.size > 0;
    return failed;
  }

  /**
   * A NACK after the ACK: the node could not prepare, on its own terms, a
   * version it accepted unprepared (a bulk push). Parks the release it holds
   * for that script, as a NACK would have; false when that version is no
   * longer what the node holds, or was parked already.
   */
  parkHeld(error: ResourceError, record: NodeRecord, now: () => number, log: Logger): boolean {
    const key = this.acked.get(error.name);
    if (key === undefined || this.rejected.get(error.name) === key) return false;
    const release = parseReleaseKey(key);
    if (
      release === null ||
      (release.version !== error.version && release.canary?.version !== error.version)
    ) {
      return false;
    }
    this.rejected.set(error.name, key);
    record.nackCount += 1;
    record.lastNack = { script: error.name, version: error.version, error: error.errorDetail, at: now() };
    log.warn(
      { script: error.name, version: error.version, release: key, error: error.errorDetail },
      "node could not prepare a script it had accepted; parked until its desired release changes",
    );
    return true;
  }

  /**
   * Records what a push changed on the node, except the scripts it rejected,
   * in `acked` and in the record's releases (kept equal to it, name by name:
   * an ACK costs what the push carried, not what the node holds).
   */
  private applied(push: PendingPush, failed: ReadonlySet<string>, record: NodeRecord): void {
    for (const [name, key] of push.touched) {
      if (failed.has(name)) continue;
      if (key === undefined) {
        this.acked.delete(name);
        delete record.releases[name];
      } else {
        this.acked.set(name, key);
        record.releases[name] = key;
      }
    }
  }
}
