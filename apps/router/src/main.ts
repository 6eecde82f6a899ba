#!/usr/bin/env node
/**
 * The router process: only wiring and listening. SIGINT/SIGTERM stop the
 * node-view poller, HTTP entry and DNS, bounded by EDGE_SHUTDOWN_GRACE_MS.
 */
import { createAppLogger, handleShutdown } from "@edge/app-process";
import { pino } from "pino";
import { loadConfig, type RouterConfig } from "./config.js";
import { createRouter } from "./router.js";

let config: RouterConfig;
try {
  config = loadConfig();
} catch (err) {
  pino({ base: { service: "router" } }).fatal({ err }, "invalid configuration");
  process.exit(1);
}

const logger = createAppLogger({ service: "router", level: config.logLevel, format: config.logFormat });
const router = createRouter(config, { logger });
handleShutdown({ logger, name: "router", graceMs: config.shutdownGraceMs, stop: () => router.stop() });

try {
  const { httpPort, dnsPort } = await router.start();
  logger.info(
    {
      httpHost: config.httpHost,
      httpPort,
      dnsHost: config.dnsHost,
      dnsPort,
      zone: config.zone,
      api: config.apiUrl,
    },
    "router listening",
  );
} catch (err) {
  logger.fatal({ err }, "router failed to start");
  await router.stop().catch(() => undefined);
  process.exit(1);
}
