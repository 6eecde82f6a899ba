import type { Hello } from "@edge/protocol";
import type { NodeState } from "../store/types.js";
import { fresher, nodeStatus, toView } from "./node-state.js";
import type { NodeView } from "./types.js";

/** What this replica knows about one node id; outlives its streams. */
export interface NodeRecord extends NodeState {
  /** The stream currently speaking for this node, if any (opaque to the registry). */
  session: object | null;
  /** Changed since it was last shared through the store. */
  dirty: boolean;
  /** ACKed since it was last shared (configVersion, releases): shared with the next batch of ACKs. */
  ackDirty?: boolean;
  /** epoch ms it was last shared (its lastSeen must stay fresh for the other replicas) */
  sharedAtMs: number;
}

/**
 * The nodes of this replica (records it owns) and, as last read from the
 * store, those of the other replicas: `views()` merges both, so every replica
 * lists every node.
 */
export class NodeRegistry {
  private readonly records = new Map<string, NodeRecord>();
  private remote = new Map<string, NodeState>();
  private acksSharedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly controlPlaneId: string,
    private readonly nodeTimeoutMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Records a hello and makes `session` the node's stream. Returns the stream it
   * replaced, if one was still open, so the caller can end it.
   */
  attach(hello: Hello, session: object): { record: NodeRecord; replaced: object | null } {
    const existing = this.records.get(hello.nodeId);
    // What another replica last knew carries over too (NACK count, last NACK), when it is newer.
    const known = existing ?? this.remote.get(hello.nodeId);
    const replaced = existing?.session ?? null;
    const record: NodeRecord = {
      id: hello.nodeId,
      pop: hello.pop,
      lat: hello.lat,
      lon: hello.lon,
      httpAddress: hello.httpAddress,
      agentVersion: hello.agentVersion,
      controlPlaneId: this.controlPlaneId,
      connected: true,
      session,
      dirty: true,
      sharedAtMs: 0,
      lastSeenMs: this.now(),
      // The last ACKed revision stays until the node ACKs again on this stream.
      configVersion: known?.configVersion ?? 0,
      // What the node says it holds is the best knowledge until its first ACK.
      releases: heldReleases(hello),
      parked: { ...hello.rejectedReleases },
      nackCount: known?.nackCount ?? 0,
      lastNack: known?.lastNack ?? null,
      failingChecks: [],
      lastAckHadErrors: known?.lastAckHadErrors ?? false,
      inFlight: 0,
    };
    this.records.set(hello.nodeId, record);
    return { record, replaced };
  }

  /** The stream ended; keeps the record (as `disconnected`) unless a newer stream took over. */
  detach(record: NodeRecord, session: object): void {
    if (record.session !== session) return;
    record.session = null;
    record.connected = false;
    record.dirty = true;
  }

  /** Roughly how many nodes the fleet has: the store's list (all replicas') or this replica's own. */
  get knownCount(): number {
    return Math.max(this.records.size, this.remote.size);
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.records.get(nodeId);
  }

  /** Records with a live stream here. */
  connected(): NodeRecord[] {
    return [...this.records.values()].filter((record) => record.session !== null);
  }

  /**
   * The states to share now: those that changed, and those with a live stream
   * not shared for `refreshMs` (their lastSeen keeps them from looking gone to
   * the other replicas). Marks them shared.
   */
  takeStatesToShare(now: number, refreshMs: number, ackBatchMs = 0): NodeState[] {
    const states: NodeState[] = [];
    const acks = now - this.acksSharedAtMs >= ackBatchMs;
    if (acks) this.acksSharedAtMs = now;
    for (const record of this.records.values()) {
      const stale = record.session !== null && now - record.sharedAtMs >= refreshMs;
      if (!record.dirty && !stale && !(acks && record.ackDirty)) continue;
      record.dirty = false;
      record.ackDirty = false;
      record.sharedAtMs = now;
      const {
        session: _session,
        dirty: _dirty,
        ackDirty: _ackDirty,
        sharedAtMs: _sharedAtMs,
        ...state
      } = record;
      states.push({ ...state, releases: { ...state.releases }, parked: { ...state.parked } });
    }
    return states;
  }

  /** Marks records as not shared after all (the save failed), so the next round retries them. */
  markUnshared(ids: Iterable<string>): void {
    for (const id of ids) {
      const record = this.records.get(id);
      if (record) record.dirty = true;
    }
  }

  /**
   * Forgets the nodes with no stream here that were last heard from before
   * `lastSeenBefore`; returns their ids. A node that reconnects is attached anew.
   * (Other replicas' nodes come from the store, which the caller prunes too.)
   */
  prune(lastSeenBefore: number): string[] {
    const pruned: string[] = [];
    for (const [id, record] of this.records) {
      if (record.session !== null || record.lastSeenMs >= lastSeenBefore) continue;
      this.records.delete(id);
      pruned.push(id);
    }
    return pruned;
  }

  /** Replaces what is known of other replicas' nodes. */
  setShared(states: NodeState[]): void {
    this.remote = new Map(states.map((state) => [state.id, state]));
  }

  views(): NodeView[] {
    const now = this.now();
    const merged = new Map<string, NodeState>(this.remote);
    for (const record of this.records.values()) {
      const other = merged.get(record.id);
      // A live stream here is the truth; otherwise whoever heard from the node last.
      merged.set(record.id, record.session !== null || other === undefined ? record : fresher(record, other));
    }
    return [...merged.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((state) => toView(state, nodeStatus(state, now, this.nodeTimeoutMs)));
  }
}

/** The node's held releases; an older agent only sends plain versions. */
function heldReleases(hello: Hello): Record<string, string> {
  if (Object.keys(hello.heldReleases).length > 0) return { ...hello.heldReleases };
  return Object.fromEntries(Object.entries(hello.heldVersions).map(([name, v]) => [name, String(v)]));
}
