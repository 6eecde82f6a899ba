#!/usr/bin/env node
import { pino } from "pino";
import { loadConfig } from "./config.js";
import { createEdgeNode } from "./edge-node.js";

const config = loadConfig();
const logger = pino({ level: config.logLevel, base: { service: "edge-node" } });
const node = createEdgeNode(config, { logger });

const { httpPort } = await node.start();
logger.info({ httpPort, nodeId: config.nodeId, pop: config.pop }, "edge node listening");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "edge node stopping");
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "edge node did not stop cleanly");
        process.exit(1);
      },
    );
  });
}
