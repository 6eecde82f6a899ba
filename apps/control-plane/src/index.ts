export { type AppDeps, buildApp, requestBodyLimit } from "./app.js";
export {
  CONTROL_PLANE_ENV_VARS,
  type Config,
  DEV_ADMIN_TOKEN,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
} from "./config.js";
export {
  EdgeError,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  type ErrorKind,
  errorBody,
  isEdgeError,
} from "./errors.js";
// Telemetry: metrics history, Prometheus, live tail and log history (issue 6).
export { createGrpcServer, type GrpcControlServer, type GrpcServerOptions } from "./grpc/server.js";
export { combineHooks, createKvReplicator, type KvReplicator } from "./kv/replicator.js";
export {
  createControlPlaneRegistry,
  createMetricsAggregator,
  createRedisMetricsStore,
  createSqliteMetricsStore,
  type EdgeNodeStatsView,
  type FiguresView,
  type MetricsAggregator,
  type MetricsQuery,
  type MetricsSource,
  type MetricsStore,
  type MetricsView,
  openMetricsStore,
  type Quantiles,
  type ScriptMetricsView,
  type SeriesPoint,
} from "./metrics/index.js";
export type { NodeLink, NodeTelemetryHooks } from "./push/telemetry-hooks.js";
export type { DeployReply } from "./routes/scripts/deploy.js";
export { SCRIPT_NAME_PATTERN } from "./routes/scripts/params.js";
export type {
  RolloutEntry,
  ScriptView,
  StagedView,
  SummaryView,
  VersionView,
} from "./routes/scripts/present.js";
export type { RolloutReply } from "./routes/scripts/rollout.js";
// Secrets at rest (issue 5): the API seals, the push hub opens.
export { createSecretBox, DEV_SECRETS_KEY, parseSecretsKey, type SecretBox } from "./secrets/secret-box.js";
export { openStore } from "./store/index.js";
export {
  type LogsResult,
  TailHub,
  type TailService,
  TailSession,
  type TraceView,
  traceView,
} from "./tail/index.js";
export { telemetryHooks } from "./telemetry.js";
