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
  /** Script name -> version the node runs (as of its last ACK). */
  scripts: Record<string, number>;
  inFlight: number;
  lastNack: NodeNack | null;
}

export interface PushHub {
  /** Something in the store changed: compute and send deltas to every node. */
  notifyChanged(): void;
  nodes(): NodeView[];
}

export interface LatencySummary {
  p50: number;
  p99: number;
}

export interface ScriptMetricsView {
  script: string;
  requests: number;
  errors: number;
  latencyMs: LatencySummary;
  cpuMsTotal: number;
  /** The same figures for each node that served the script. */
  nodes: Array<{
    nodeId: string;
    pop: string;
    requests: number;
    errors: number;
    latencyMs: LatencySummary;
    cpuMsTotal: number;
  }>;
}

export interface MetricsView {
  scripts: ScriptMetricsView[];
}

export interface MetricsSource {
  /** Totals since the control plane started, for every script, optionally one script. */
  view(script?: string): MetricsView;
}
