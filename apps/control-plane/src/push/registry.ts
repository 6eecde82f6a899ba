import type { Hello } from "@edge/protocol";
import type { NodeNack, NodeStatus, NodeView } from "./types.js";

/** What the control plane knows about one node id; outlives its streams. */
export interface NodeRecord {
  id: string;
  pop: string;
  lat: number;
  lon: number;
  httpAddress: string;
  agentVersion: string;
  /** The stream currently speaking for this node, if any (opaque to the registry). */
  session: object | null;
  /** epoch ms of the last message from the node */
  lastSeenMs: number;
  configVersion: number;
  scripts: Map<string, number>;
  inFlight: number;
  lastNack: NodeNack | null;
  lastAckHadErrors: boolean;
}

/**
 * The status rule:
 * - `disconnected`: no open stream, or nothing heard within `nodeTimeoutMs`
 *   (the node stays listed so operators see it went away);
 * - `unhealthy`: the stream is live but the node's last ACK rejected some
 *   script (see `lastNack`); a later clean ACK makes it healthy again;
 * - `healthy`: otherwise.
 */
export function nodeStatus(record: NodeRecord, now: number, nodeTimeoutMs: number): NodeStatus {
  if (record.session === null || now - record.lastSeenMs > nodeTimeoutMs) return "disconnected";
  return record.lastAckHadErrors ? "unhealthy" : "healthy";
}

export class NodeRegistry {
  private readonly records = new Map<string, NodeRecord>();

  constructor(
    private readonly nodeTimeoutMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Records a hello and makes `session` the node's stream. Returns the stream it
   * replaced, if one was still open, so the caller can end it.
   */
  attach(hello: Hello, session: object): { record: NodeRecord; replaced: object | null } {
    const existing = this.records.get(hello.nodeId);
    const replaced = existing?.session ?? null;
    const record: NodeRecord = {
      id: hello.nodeId,
      pop: hello.pop,
      lat: hello.lat,
      lon: hello.lon,
      httpAddress: hello.httpAddress,
      agentVersion: hello.agentVersion,
      session,
      lastSeenMs: this.now(),
      // The last ACKed revision stays until the node ACKs again on this stream.
      configVersion: existing?.configVersion ?? 0,
      // What the node says it holds is the best knowledge until its first ACK.
      scripts: new Map(Object.entries(hello.heldVersions)),
      inFlight: 0,
      lastNack: existing?.lastNack ?? null,
      lastAckHadErrors: existing?.lastAckHadErrors ?? false,
    };
    this.records.set(hello.nodeId, record);
    return { record, replaced };
  }

  /** The stream ended; keeps the record (as `disconnected`) unless a newer stream took over. */
  detach(record: NodeRecord, session: object): void {
    if (record.session === session) record.session = null;
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.records.get(nodeId);
  }

  views(): NodeView[] {
    const now = this.now();
    return [...this.records.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((record) => toView(record, nodeStatus(record, now, this.nodeTimeoutMs)));
  }
}

function toView(record: NodeRecord, status: NodeStatus): NodeView {
  return {
    id: record.id,
    pop: record.pop,
    lat: record.lat,
    lon: record.lon,
    httpAddress: record.httpAddress,
    status,
    lastSeen: new Date(record.lastSeenMs).toISOString(),
    configVersion: record.configVersion,
    scripts: Object.fromEntries([...record.scripts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    inFlight: record.inFlight,
    lastNack: record.lastNack === null ? null : { ...record.lastNack },
  };
}
