/** The shapes of the control plane's API answers the console reads (see the README's HTTP API). */

export type NodeStatus = "healthy" | "unhealthy" | "disconnected";

export interface NodeView {
  id: string;
  pop: string;
  lat: number;
  lon: number;
  httpAddress: string;
  status: NodeStatus;
  lastSeen: string;
  configVersion: number;
  scripts: Record<string, number>;
  canaries: Record<string, { version: number; percent: number }>;
  inFlight: number;
  lastNack: { script: string; version: number; error: string; at: number } | null;
  nackCount: number;
}

export interface ScriptSummary {
  name: string;
  activeVersion: number;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface VersionView {
  name: string;
  version: number;
  sha256: string;
  vars: Record<string, string>;
  secrets: string[];
  limits: { cpuMs: number; memoryMb: number; wallMs: number };
  createdAt: string;
  active: boolean;
}

export interface ScriptView extends VersionView {
  staged: { version: number; percent: number | null; pops: string[] | null; startedAt: string } | null;
  rollout: Array<{
    nodeId: string;
    pop: string;
    version: number;
    canary?: { version: number; percent: number };
  }>;
}

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface SeriesPoint {
  time: string;
  requests: number;
  errors: number;
  latencyMs: Quantiles;
}

export interface ScriptMetrics {
  script: string;
  requests: number;
  errors: number;
  latencyMs: Quantiles;
  versions: Array<{ version: number; requests: number; errors: number; latencyMs: Quantiles }>;
  nodes: Array<{ nodeId: string; pop: string; requests: number; errors: number; latencyMs: Quantiles }>;
  series: SeriesPoint[];
}

export interface EdgeNodeStats {
  nodeId: string;
  pop: string;
  reportedAt: string;
  inFlight: number;
  isolatesCreated: number;
  eventLoopLagP99Ms: number;
  cpuLoad: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface MetricsView {
  since: string;
  until: string;
  scripts: ScriptMetrics[];
  edgeNodes: EdgeNodeStats[];
}

export interface TraceView {
  time: string;
  script: string;
  version: number;
  pop: string;
  nodeId: string;
  method: string;
  url: string;
  status: number;
  cpuMs: number;
  wallMs: number;
  error: { code: string; message: string; stack?: string } | null;
  logs: Array<{ time: string | number; level: string; message: string }>;
}
