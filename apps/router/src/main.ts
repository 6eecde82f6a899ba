#!/usr/bin/env node
/**
 * The router process: only wiring and listening. Ends cleanly on SIGINT/SIGTERM.
 */
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

const logger = pino({ level: config.logLevel, base: { service: "router" } });
const router = createRouter(config, { logger });

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

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "router stopping");
    router.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "router did not stop cleanly");
        process.exit(1);
      },
    );
  });
}
