import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildApp,
  createControlPlaneRegistry,
  createGrpcServer,
  createMetricsAggregator,
  createSqliteMetricsStore,
  loadConfig,
  openStore,
  TailHub,
  telemetryHooks,
} from "@edge/control-plane";
import { pino } from "pino";
import { type Io, run } from "../src/index.js";

export const TOKEN = "cli-test-admin-token";

/** A real control plane API on loopback (no edge node), for commands that only talk HTTP. */
export async function startApi() {
  const config = loadConfig({
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_LOG_LEVEL: "silent",
    EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    // A fixed test key: deploys with --secret need one.
    EDGE_SECRETS_KEY: "00".repeat(32),
  });
  const logger = pino({ level: "silent" });
  const store = await openStore("memory");
  const metricsStore = createSqliteMetricsStore(":memory:");
  const metrics = createMetricsAggregator({
    store: metricsStore,
    logger,
    flushMs: 60_000,
    retentionMs: 3_600_000,
  });
  const tail = new TailHub({ logger, ...config.tail });
  const grpc = createGrpcServer({ config, store, logger, telemetry: telemetryHooks(metrics, tail) });
  const prometheus = createControlPlaneRegistry({ metrics, nodes: () => grpc.hub.nodes(), tail });
  const app = await buildApp(config, { store, hub: grpc.hub, metrics, tail, prometheus, logger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      app.server.closeAllConnections();
      await app.close();
      await grpc.close();
      await metrics.close();
      await metricsStore.close();
      await store.close();
    },
  };
}

export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs one command line in-process with captured output. */
export async function edgectl(
  argv: string[],
  env: Record<string, string | undefined>,
  cwd?: string,
): Promise<Captured> {
  let out = "";
  let err = "";
  const dir = cwd ?? mkdtempSync(join(tmpdir(), "edgectl-"));
  const io: Io = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTTY: false,
    // No config file unless the test names one.
    env: { EDGECTL_CONFIG: undefined, XDG_CONFIG_HOME: join(dir, "no-config"), ...env },
    cwd: dir,
    interrupted: new Promise(() => {}),
  };
  try {
    const code = await run(argv, io);
    return { code, out, err };
  } finally {
    if (cwd === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
