/**
 * @edge/protocol — the edge.v1 wire contract between the control plane and
 * edge nodes. Everything under `generated/` comes from `npm run gen` (buf +
 * ts-proto) and is never edited by hand.
 */

export {
  CPU_BOUNDS_MS,
  GRPC_CHANNEL_OPTIONS,
  LATENCY_BOUNDS_MS,
  MAX_GRPC_MESSAGE_BYTES,
} from "./constants.js";
export {
  Ack,
  Canary,
  ConfigPush,
  ControlMessage,
  ControlPlaneServiceClient,
  type ControlPlaneServiceServer,
  ControlPlaneServiceService,
  Heartbeat,
  Hello,
  KvEntry,
  KvMutation,
  KvNamespaceDelta,
  KvSubscribe,
  KvSync,
  KvWrite,
  KvWriteResult,
  Limits,
  MetricsReport,
  NodeMessage,
  ResourceError,
  RunScheduled,
  ScheduledReport,
  Script,
  ScriptMetrics,
  ScriptModule,
  Welcome,
} from "./generated/edge/v1/control.js";
export {
  LogsQuery,
  LogsReply,
  MetricsAck,
  NodeStats,
  RequestTrace,
  TailBatch,
  TailDelivery,
  TailFilter,
  TailLogLine,
  TailSession,
  TailSessions,
} from "./generated/edge/v1/telemetry.js";
export { KV_LIMITS } from "./kv-limits.js";
export {
  ControlPlaneServiceServing,
  encodeUpserts,
  preEncodedPush,
  serializeControlMessage,
} from "./push-encoding.js";
export { type ParsedRelease, parseReleaseKey, releaseKey } from "./release.js";
export { emptyScriptMetrics } from "./script-metrics.js";
export { type DigestModule, versionDigest } from "./version-digest.js";
