/**
 * What `GET /v1/metrics` answers, and the seam the HTTP API reads it through.
 */

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

/** The figures of a group of requests (a script, a version, a node, a minute). */
export interface FiguresView {
  requests: number;
  errors: number;
  /** Request latency at the node, from the merged histograms. */
  latencyMs: Quantiles;
  /** Isolate CPU time per request, from the merged histograms. */
  cpuMs: Quantiles;
  cpuMsTotal: number;
  /** "2xx" -> responses */
  statusClasses: Record<string, number>;
  /** `EDGE_CPU_LIMIT` -> requests */
  errorsByCode: Record<string, number>;
  /** Mean isolate start time, null until the isolate host reports it. */
  isolateStartMsAvg: number | null;
  /** Mean isolate heap after a request, null until the isolate host reports it. */
  memoryBytesAvg: number | null;
  /** Workers KV operations by namespace id (see `GET /v1/kv/namespaces`). */
  kv: Record<string, { reads: number; misses: number; lists: number; writes: number }>;
}

/** A node's share of a script (the walking skeleton's fields, plus p90). */
export interface NodeShareView {
  nodeId: string;
  pop: string;
  requests: number;
  errors: number;
  latencyMs: Quantiles;
  cpuMsTotal: number;
}

export interface VersionShareView extends FiguresView {
  version: number;
}

/** One 1-minute bucket of a script, summed over the nodes and versions that match. */
export interface SeriesPoint {
  /** ISO-8601 start of the minute. */
  time: string;
  requests: number;
  errors: number;
  cpuMsTotal: number;
  latencyMs: Quantiles;
  statusClasses: Record<string, number>;
}

export interface ScriptMetricsView extends FiguresView {
  script: string;
  versions: VersionShareView[];
  nodes: NodeShareView[];
  /** Minutes with traffic, oldest first. */
  series: SeriesPoint[];
}

/** The latest node-wide figures a node reported. */
export interface EdgeNodeStatsView {
  nodeId: string;
  pop: string;
  /** ISO-8601 time of the report. */
  reportedAt: string;
  inFlight: number;
  isolatesCreated: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  cpuLoad: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface MetricsView {
  /** ISO-8601 bounds of the window the figures cover. */
  since: string;
  until: string;
  bucketSeconds: number;
  scripts: ScriptMetricsView[];
  edgeNodes: EdgeNodeStatsView[];
}

export interface MetricsQuery {
  script?: string;
  pop?: string;
  /** epoch ms; default one hour before `until`. */
  since?: number;
  /** epoch ms; default now. */
  until?: number;
}

export interface MetricsSource {
  query(query: MetricsQuery): Promise<MetricsView>;
}
