export { Agent, type AgentDeps } from "./agent/agent.js";
export { Backoff } from "./agent/backoff.js";
export { ConfigError, EDGE_NODE_ENV_VARS, type EdgeNodeConfig, loadConfig } from "./config.js";
export { createEdgeNode, type EdgeNode } from "./edge-node.js";
export { FRONT_ERRORS, type FrontErrorCode } from "./errors.js";
export { scriptNameFromHost } from "./http/host.js";
export { MetricsCollector } from "./metrics/collector.js";
export { type ActiveScript, ScriptRegistry } from "./script-registry.js";
