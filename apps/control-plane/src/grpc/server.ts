import { type ControlPlaneServiceServer, ControlPlaneServiceServing } from "@edge/protocol";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import type { GrpcTls } from "../config.js";
import { type ConnectHub, createPushHub } from "../push/hub.js";
import { streamStatus } from "../push/stream-errors.js";
import type { NodeTelemetryHooks } from "../push/telemetry-hooks.js";
import type { Store } from "../store/types.js";
import { bearerToken, enrolmentCheck, nodeTokenCheck } from "./node-auth.js";
import { grpcServerOptions } from "./server-options.js";

/** The part of the app's `Config` the gRPC side reads. */
export interface GrpcServerConfig {
  /** `host:port` to bind; port 0 picks a free port. */
  grpcAddress: string;
  nodeTimeoutMs: number;
  /** A node silent this long is forgotten (default 24 h). */
  nodeRetentionMs?: number;
  controlPlaneId: string;
  /** Change batching window (default 100 ms). */
  pushBatchMs?: number;
  /** Default MAX_GRPC_MESSAGE_BYTES. */
  grpcMaxMessageBytes?: number;
  /** Shared token nodes must present; null or absent: none. */
  nodeToken?: string | null;
  /** Per-node enrolment: each node presents the token issued for its id and PoP (`POST /v1/nodes/enrolments`). */
  nodeEnrolment?: boolean;
  /** How long after start the node view counts as settled with nodes missing (`EDGE_NODE_SETTLE_MS`). */
  nodeSettleMs?: number;
  /** Null or absent: plaintext. */
  grpcTls?: GrpcTls | null;
  /** `EDGE_SECRETS_KEY`, to open secrets for the push; null or absent: scripts with secrets are withheld. */
  secretsKey?: Buffer | null;
}

export interface GrpcServerOptions {
  config: GrpcServerConfig;
  store: Store;
  logger: Logger;
  /** Metrics, tail and logs riding on the node streams (see `push/telemetry-hooks.ts`). */
  telemetry?: NodeTelemetryHooks;
}

export interface GrpcControlServer {
  hub: ConnectHub;
  /** Binds `config.grpcAddress`; resolves with the port actually bound. */
  listen(): Promise<{ port: number }>;
  /** Ends every node stream, then shuts the server down. */
  close(): Promise<void>;
}

/** How long `close()` lets calls finish before dropping connections. */
const SHUTDOWN_GRACE_MS = 2_000;

/** `grpc.health.v1` service names: the whole server, and the edge.v1 service. */
export const HEALTH_SERVICES = ["", "edge.v1.ControlPlaneService"] as const;

/**
 * The control plane's gRPC face: `edge.v1.ControlPlaneService` (the push hub)
 * and `grpc.health.v1.Health`, SERVING while listening and the store's change
 * feed is live (NOT_SERVING sends load balancers, and nodes, elsewhere).
 * Optional TLS or mTLS; optional node enrolment token, checked before a
 * stream reaches the hub.
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcControlServer {
  const { config, store } = options;
  const logger = options.logger.child({ component: "grpc" });
  const health = new HealthImplementation(
    Object.fromEntries(HEALTH_SERVICES.map((service) => [service, "NOT_SERVING" as const])),
  );
  let serving = false;
  let storeHealthy = true;
  const updateHealth = (): void => {
    const status = serving && storeHealthy ? "SERVING" : "NOT_SERVING";
    for (const service of HEALTH_SERVICES) health.setStatus(service, status);
  };

  const hub = createPushHub({
    store,
    logger,
    controlPlaneId: config.controlPlaneId,
    nodeTimeoutMs: config.nodeTimeoutMs,
    ...(config.nodeRetentionMs !== undefined ? { nodeRetentionMs: config.nodeRetentionMs } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(config.pushBatchMs !== undefined ? { batchMs: config.pushBatchMs } : {}),
    ...(config.grpcMaxMessageBytes !== undefined ? { maxMessageBytes: config.grpcMaxMessageBytes } : {}),
    secretsKey: config.secretsKey ?? null,
    enrolment: config.nodeEnrolment === true,
    ...(config.nodeSettleMs !== undefined ? { settleMs: config.nodeSettleMs } : {}),
    onStoreHealth: (healthy) => {
      storeHealthy = healthy;
      updateHealth();
    },
  });
  const server = new Server(grpcServerOptions(config.grpcMaxMessageBytes));
  const authorized = nodeTokenCheck(config.nodeToken ?? null);
  const refuse = (call: Parameters<ControlPlaneServiceServer["connect"]>[0], detail?: string): void => {
    logger.warn({ peer: call.getPeer() }, "node refused: missing or wrong enrolment token");
    call.on("error", () => {});
    call.emit("error", streamStatus("EDGE_NODE_UNAUTHENTICATED", detail));
  };
  const implementation: ControlPlaneServiceServer = {
    connect: (call) => {
      if (config.nodeEnrolment === true) {
        // The token is checked against the node id and PoP of the hello, before anything is recorded.
        const token = bearerToken(call.metadata);
        if (token === null) return refuse(call, "present the token issued for this node (EDGE_NODE_TOKEN)");
        hub.connect(call, enrolmentCheck(store, token));
        return;
      }
      if (authorized(call.metadata)) {
        hub.connect(call);
        return;
      }
      refuse(call);
    },
  };
  server.addService(ControlPlaneServiceServing, implementation);
  health.addToServer(server);

  let listening: Promise<{ port: number }> | null = null;
  let closing: Promise<void> | null = null;

  return {
    hub,
    listen() {
      listening ??= new Promise((resolve, reject) => {
        server.bindAsync(config.grpcAddress, credentials(config.grpcTls ?? null), (error, port) => {
          if (error) return reject(error);
          serving = true;
          updateHealth();
          logger.info(
            { address: config.grpcAddress, port, tls: tlsMode(config.grpcTls ?? null) },
            "gRPC server listening",
          );
          resolve({ port });
        });
      });
      return listening;
    },
    close() {
      closing ??= (async () => {
        serving = false;
        updateHealth();
        await hub.close();
        await shutdown(server, SHUTDOWN_GRACE_MS);
        logger.info("gRPC server closed");
      })();
      return closing;
    },
  };
}

function credentials(tls: GrpcTls | null): ServerCredentials {
  if (tls === null) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.clientCa !== null,
  );
}

function tlsMode(tls: GrpcTls | null): string {
  return tls === null ? "off" : tls.clientCa === null ? "tls" : "mtls";
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
