#!/usr/bin/env node
/**
 * The control plane process: only wiring and listening. config → logger →
 * store → gRPC (push hub, metrics) → HTTP API. Ends cleanly on SIGINT/SIGTERM.
 */
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { buildApp } from "./app.js";
import { type Config, loadConfig } from "./config.js";
import { createGrpcServer } from "./grpc/index.js";
import { openStore } from "./store/index.js";

/** Every step that has started, undone in reverse on shutdown or a failed start. */
type Closer = { name: string; close: () => Promise<unknown> };

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    pino({ base: { service: "control-plane" } }).fatal({ err }, "invalid configuration");
    process.exit(1);
  }

  const logger = pino({
    level: config.logLevel,
    base: { service: "control-plane", cp: config.controlPlaneId },
  });
  const closers: Closer[] = [];
  const closeAll = async (): Promise<boolean> => {
    let clean = true;
    for (const { name, close } of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        clean = false;
        logger.error({ err }, `failed to close ${name}`);
      }
    }
    return clean;
  };

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal during shutdown: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    void closeAll().then((clean) => {
      logger.info("control plane stopped");
      process.exit(clean ? 0 : 1);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  try {
    const store = await openStore(config.store, { logger });
    closers.push({ name: "store", close: () => store.close() });

    const grpc = createGrpcServer({ config, store, logger });
    closers.push({ name: "gRPC server", close: () => grpc.close() });

    const app = await buildApp(config, { store, hub: grpc.hub, metrics: grpc.metrics, logger });
    closers.push({ name: "HTTP server", close: () => app.close() });

    const { port: grpcPort } = await grpc.listen();
    await app.listen({ host: config.apiHost, port: config.apiPort });
    const httpPort = (app.server.address() as AddressInfo).port;
    logger.info(
      { httpHost: config.apiHost, httpPort, grpcAddress: config.grpcAddress, grpcPort },
      "control plane listening",
    );
  } catch (err) {
    logger.fatal({ err }, "control plane failed to start");
    await closeAll();
    process.exit(1);
  }
}

void main();
