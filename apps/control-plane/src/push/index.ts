export {
  type ConnectHub,
  createPushHub,
  heartbeatIntervalFor,
  type PushHubOptions,
  pushBudget,
} from "./hub.js";
export { STREAM_ERRORS, type StreamErrorCode, streamStatus } from "./stream-errors.js";
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
