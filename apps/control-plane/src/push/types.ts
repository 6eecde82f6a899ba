/**
 * The seam between the HTTP API and the gRPC side of the control plane.
 * The API writes to the store, then calls `notifyChanged()`; the hub reads the
 * store's snapshot and pushes what changed to every connected node.
 */

export type NodeStatus = "healthy" | "unhealthy" | "disconnected";

export interface NodeNack {
  script: string;
  version: number;
  error: string;
  /** epoch ms */
  at: number;
}

/** What `GET /v1/nodes` shows for one edge node. */
export interface NodeView {
  id: string;
  pop: string;
  lat: number;
  lon: number;
  httpAddress: string;
  status: NodeStatus;
  /** ISO-8601 time of the last message from the node. */
  lastSeen: string;
  /** The config revision the node last ACKed (0 before its first ACK). */
  configVersion: number;
  /** Script name -> version the node runs for (the rest of) its traffic, as of its last ACK. */
  scripts: Record<string, number>;
  /** Script name -> the canary version a gradual rollout runs on `percent` of the node's traffic. */
  canaries: Record<string, { version: number; percent: number }>;
  inFlight: number;
  lastNack: NodeNack | null;
  /** NACKs received from the node since it was first seen by this control plane. */
  nackCount: number;
  /** Script name -> release the node rejected: not sent again until the desired release changes. */
  parked: Record<string, string>;
  /** The node's own health checks that fail (a node with any is `unhealthy`). */
  failingChecks: string[];
  /** Present while the node prepares a script's version again after a failure load can cause: name -> reason. */
  retrying?: Record<string, string>;
  /** The control-plane replica holding (or last holding) the node's stream. */
  controlPlaneId: string;
}

export interface PushHub {
  /** Something in the store changed: compute and send deltas to every node. */
  notifyChanged(): void;
  /** Every node any replica serves or served (nodes of other replicas as last shared through the store). */
  nodes(): NodeView[];
  /**
   * Whether `nodes()` can be trusted to be complete: false for a freshly
   * started replica until every node it lists is connected again, or the
   * settle window (`EDGE_NODE_SETTLE_MS`) has passed. The router keeps its
   * last good view of nodes while this is false.
   */
  viewSettled(): boolean;
  /** Ends this replica's streams of a node whose enrolment was revoked; returns how many it ended. */
  revoke(nodeId: string): number;
}

/** Metrics types live with the metrics (`src/metrics/types.ts`); re-exported for older imports. */
export type {
  MetricsSource,
  MetricsView,
  Quantiles as LatencySummary,
  ScriptMetricsView,
} from "../metrics/types.js";
