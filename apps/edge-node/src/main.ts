#!/usr/bin/env node
/**
 * The edge node process: only wiring and listening. SIGINT/SIGTERM stop the
 * node (agent, cache, HTTP front, isolates), bounded by EDGE_SHUTDOWN_GRACE_MS.
 */
import { createAppLogger, handleShutdown } from "@edge/app-process";
import { pino } from "pino";
import { type EdgeNodeConfig, loadConfig } from "./config.js";
import { createEdgeNode } from "./edge-node.js";

let config: EdgeNodeConfig;
try {
  config = loadConfig();
} catch (err) {
  pino({ base: { service: "edge-node" } }).fatal({ err }, "invalid configuration");
  process.exit(1);
}

const logger = createAppLogger({ service: "edge-node", level: config.logLevel, format: config.logFormat });
const node = createEdgeNode(config, { logger });
handleShutdown({ logger, name: "edge node", graceMs: config.shutdownGraceMs, stop: () => node.stop() });

try {
  const { httpPort } = await node.start();
  logger.info({ httpPort, nodeId: config.nodeId, pop: config.pop }, "edge node listening");
} catch (err) {
  logger.fatal({ err }, "edge node failed to start");
  process.exit(1);
}
