export { type ConnectHub, createPushHub, heartbeatIntervalFor, type PushHubOptions } from "./hub.js";
export { STREAM_ERRORS, type StreamErrorCode } from "./stream-errors.js";
export type {
  LatencySummary,
  MetricsSource,
  MetricsView,
  NodeNack,
  NodeStatus,
  NodeView,
  PushHub,
  ScriptMetricsView,
} from "./types.js";
