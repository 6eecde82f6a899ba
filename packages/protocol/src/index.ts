/**
 * @edge/protocol — the edge.v1 wire contract between the control plane and
 * edge nodes. Everything under `generated/` comes from `npm run gen` (buf +
 * ts-proto) and is never edited by hand.
 */
export {
  Ack,
  ConfigPush,
  ControlMessage,
  ControlPlaneServiceClient,
  ControlPlaneServiceService,
  type ControlPlaneServiceServer,
  Heartbeat,
  Hello,
  Limits,
  MetricsReport,
  NodeMessage,
  ResourceError,
  Script,
  ScriptMetrics,
  Welcome,
} from "./generated/edge/v1/control.js";
export {
  GRPC_CHANNEL_OPTIONS,
  LATENCY_BOUNDS_MS,
  MAX_GRPC_MESSAGE_BYTES,
} from "./constants.js";
