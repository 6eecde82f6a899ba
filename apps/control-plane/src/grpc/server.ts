import { type ControlPlaneServiceServer, ControlPlaneServiceService } from "@edge/protocol";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { createMetricsAggregator } from "../metrics/aggregator.js";
import { createPushHub } from "../push/hub.js";
import type { MetricsSource, PushHub } from "../push/types.js";
import type { Store } from "../store/types.js";
import { GRPC_SERVER_OPTIONS } from "./server-options.js";

/** The part of the app's `Config` the gRPC side reads. */
export interface GrpcServerConfig {
  /** `host:port` to bind; port 0 picks a free port. */
  grpcAddress: string;
  nodeTimeoutMs: number;
  controlPlaneId: string;
}

export interface GrpcServerOptions {
  config: GrpcServerConfig;
  store: Store;
  logger: Logger;
}

export interface GrpcControlServer {
  hub: PushHub;
  metrics: MetricsSource;
  /** Binds `config.grpcAddress`; resolves with the port actually bound. */
  listen(): Promise<{ port: number }>;
  /** Ends every node stream, then shuts the server down. */
  close(): Promise<void>;
}

/** How long `close()` lets calls finish before dropping connections. */
const SHUTDOWN_GRACE_MS = 2_000;

export function createGrpcServer(options: GrpcServerOptions): GrpcControlServer {
  const { config, store } = options;
  const logger = options.logger.child({ component: "grpc" });
  const metrics = createMetricsAggregator();
  const hub = createPushHub({
    store,
    logger,
    controlPlaneId: config.controlPlaneId,
    nodeTimeoutMs: config.nodeTimeoutMs,
    onMetrics: (node, report) => metrics.record(node, report),
  });
  const server = new Server(GRPC_SERVER_OPTIONS);
  const implementation: ControlPlaneServiceServer = { connect: (call) => hub.connect(call) };
  server.addService(ControlPlaneServiceService, implementation);

  let listening: Promise<{ port: number }> | null = null;
  let closing: Promise<void> | null = null;

  return {
    hub,
    metrics,
    listen() {
      listening ??= new Promise((resolve, reject) => {
        server.bindAsync(config.grpcAddress, ServerCredentials.createInsecure(), (error, port) => {
          if (error) return reject(error);
          logger.info({ address: config.grpcAddress, port }, "gRPC server listening");
          resolve({ port });
        });
      });
      return listening;
    },
    close() {
      closing ??= (async () => {
        await hub.close();
        await shutdown(server, SHUTDOWN_GRACE_MS);
        logger.info("gRPC server closed");
      })();
      return closing;
    },
  };
}

/** tryShutdown waits for open calls; bounded, then connections are dropped. */
function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
