export { Agent, type AgentDeps } from "./agent/agent.js";
export { Backoff } from "./agent/backoff.js";
export { ControlPlaneConnector } from "./agent/connector.js";
export { type CachedConfig, ConfigCache, writeFileAtomic } from "./cache/index.js";
export {
  ConfigError,
  type ControlPlaneTls,
  EDGE_NODE_ENV_VARS,
  type EdgeNodeConfig,
  loadConfig,
} from "./config.js";
export { createEdgeNode, type EdgeNode } from "./edge-node.js";
export { FRONT_ERRORS, type FrontErrorCode } from "./errors.js";
export { scriptNameFromHost } from "./http/host.js";
export {
  type CacheEvent,
  type CacheRecorder,
  CacheStore,
  type CacheStoreOptions,
} from "./http-cache/cache-store.js";
export { isTransientPrepareFailure, LazyScript, PreparedLru } from "./lazy-script.js";
export { bucketIndex, MetricsCollector, type MetricsWindow } from "./metrics/collector.js";
export { NodeStatsSampler } from "./metrics/node-stats.js";
export { createEdgeRegistry, type EdgePrometheusDeps } from "./metrics/prometheus.js";
export { MetricsShipper, type MetricsShipperOptions } from "./metrics/shipper.js";
export { type RequestOutcome, statusClass } from "./request-outcome.js";
export {
  type ActiveScript,
  DEFAULT_MAX_PREPARED,
  DEFAULT_PUSH_PREPARE_MAX,
  ScriptRegistry,
  type ScriptRegistryOptions,
} from "./script-registry.js";
export { EdgeTail, type EdgeTailOptions } from "./tail/edge-tail.js";
export { compileFilter, type Filterable, type RequestPredicate, sampler } from "./tail/filter.js";
export { LogHistory, type LogHistoryOptions } from "./tail/history.js";
export { canaryBucket, clientKey } from "./traffic-split.js";
export { type VersionCheckCode, VersionCheckError, verifyVersion } from "./verify-version.js";
