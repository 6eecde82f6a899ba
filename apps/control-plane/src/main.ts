#!/usr/bin/env node
/**
 * The control plane process: only wiring and listening. config → logger →
 * store → metrics and tail → gRPC (push hub) → HTTP API. SIGINT/SIGTERM close
 * them in reverse (open tail streams first), bounded by EDGE_SHUTDOWN_GRACE_MS.
 */
import type { AddressInfo } from "node:net";
import { createAppLogger, handleShutdown } from "@edge/app-process";
import { pino } from "pino";
import { buildApp } from "./app.js";
import { type Config, loadConfig } from "./config.js";
import { startCronTriggers } from "./cron/index.js";
import { createGrpcServer } from "./grpc/index.js";
import { combineHooks, createKvReplicator } from "./kv/replicator.js";
import { createMetricsAggregator } from "./metrics/aggregator.js";
import { createControlPlaneRegistry } from "./metrics/prometheus.js";
import { openMetricsStore } from "./metrics/store/open.js";
import { openStore } from "./store/index.js";
import { TailHub } from "./tail/tail-hub.js";
import { telemetryHooks } from "./telemetry.js";

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

  const logger = createAppLogger({
    service: "control-plane",
    level: config.logLevel,
    format: config.logFormat,
    base: { cp: config.controlPlaneId },
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

  handleShutdown({
    logger,
    name: "control plane",
    graceMs: config.shutdownGraceMs,
    stop: async () => {
      if (!(await closeAll())) throw new Error("some parts did not close cleanly");
    },
  });

  try {
    const store = await openStore(config.store, { logger, redis: config.redisDurability });
    closers.push({ name: "store", close: () => store.close() });

    // Metrics history lives beside the scripts (same SQLite file or Redis), kept an hour past retention.
    const metricsStore = await openMetricsStore(config.store, {
      logger,
      ttlMs: config.metrics.retentionMs + 3_600_000,
    });
    closers.push({ name: "metrics store", close: () => metricsStore.close() });
    // Reports about scripts that are not live are dropped (the hub's latest read of the store).
    let liveScripts: () => ReadonlySet<string> | null = () => null;
    const metrics = createMetricsAggregator({
      store: metricsStore,
      logger,
      ...config.metrics,
      liveScripts: () => liveScripts(),
    });
    metrics.start();
    closers.push({ name: "metrics", close: () => metrics.close() });
    const tail = new TailHub({ logger, ...config.tail });
    closers.push({ name: "tail", close: async () => tail.shutdown() });

    const kv = createKvReplicator({ store, logger });
    kv.start();
    closers.push({ name: "KV replication", close: () => kv.close() });
    const cron = startCronTriggers(config, store, logger);
    closers.push({ name: "Cron Triggers", close: () => cron.close() });
    const telemetry = combineHooks(combineHooks(telemetryHooks(metrics, tail), kv.hooks), cron.hooks);
    const grpc = createGrpcServer({ config, store, logger, telemetry });
    closers.push({ name: "gRPC server", close: () => grpc.close() });
    liveScripts = () => grpc.hub.liveScripts();

    const prometheus = createControlPlaneRegistry({
      metrics,
      nodes: () => grpc.hub.nodes(),
      tail,
      cronTicks: () => cron.ticks(),
    });
    const app = await buildApp(config, {
      store,
      hub: grpc.hub,
      metrics,
      tail,
      prometheus,
      logger,
      kv,
      cron: cron.dispatcher,
    });
    closers.push({ name: "HTTP server", close: () => app.close() });
    // Closed first: open tail streams (SSE) would otherwise hold the HTTP server open.
    closers.push({ name: "tail streams", close: async () => tail.shutdown() });

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
