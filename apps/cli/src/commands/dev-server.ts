import {
  createGrpcServer,
  loadConfig as loadControlPlaneConfig,
  openStore,
  TailHub,
  telemetryHooks,
  traceView,
} from "@edge/control-plane";
import { createEdgeNode, loadConfig as loadEdgeConfig } from "@edge/edge-node";
import { pino } from "pino";
import { type Trace, traceLines } from "./trace-line.js";

export interface DevServer {
  url: string;
  /** Stores a new version, pushes it, and waits until the node runs or rejects it. */
  deploy(source: string, sha256: string): Promise<{ ok: boolean; version: number; error?: string }>;
  close(): Promise<void>;
}

/**
 * A control plane (in-memory store, gRPC on a free loopback port, no HTTP
 * API) and one edge node in this process, with a tail session open on the
 * script so every request prints its summary, console lines and errors.
 */
export async function runDevServer(options: {
  name: string;
  port: number;
  vars: Record<string, string>;
  print: (text: string) => void;
  warn: (text: string) => void;
}): Promise<DevServer> {
  // Rejections and request errors are printed as lines of their own; the host log is for failures.
  const logger = pino({ level: "error" }, pino.destination(2));
  const cpConfig = loadControlPlaneConfig({
    EDGE_DEV: "1",
    EDGE_STORE: "memory",
    EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    EDGE_NODE_TIMEOUT_MS: "3000",
  });
  const store = await openStore("memory");
  const metrics = { record: () => {} };
  const tail = new TailHub({ logger, ...cpConfig.tail });
  const grpc = createGrpcServer({
    config: cpConfig,
    store,
    logger,
    telemetry: telemetryHooks(metrics, tail),
  });
  const { port: grpcPort } = await grpc.listen();
  const node = createEdgeNode(
    loadEdgeConfig({
      EDGE_POP: "dev",
      EDGE_NODE_ID: "dev",
      EDGE_HTTP_PORT: String(options.port),
      EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
      EDGE_TAIL_FLUSH_MS: "20",
      EDGE_MAX_CPU_MS: String(cpConfig.maxLimits.cpuMs),
      // Local development, as `wrangler dev`: a script may call an origin on this machine.
      // Deployed edge nodes refuse internal addresses by default (EDGE_FETCH_INTERNAL=deny).
      EDGE_FETCH_INTERNAL: "allow",
    }),
    { logger },
  );
  const { httpPort } = await node.start();
  const session = tail.open(options.name, { pops: [], methods: [], statuses: [], search: "", sampleRate: 0 });
  session.onReadable(() => {
    for (;;) {
      const { traces, dropped } = session.take(100);
      if (dropped > 0) options.warn(`[${dropped} requests not shown]\n`);
      if (traces.length === 0) break;
      for (const trace of traces) options.print(traceLines(traceView(trace) as Trace));
    }
  });

  const runs = (version: number) => grpc.hub.nodes().some((n) => n.scripts[options.name] === version);
  const rejected = (version: number) =>
    grpc.hub
      .nodes()
      .map((n) => n.lastNack)
      .find((nack) => nack !== null && nack.script === options.name && nack.version === version);

  return {
    url: `http://${options.name}.localhost:${httpPort}/`,
    async deploy(source, sha256) {
      const { version } = await store.putVersion(options.name, {
        source,
        sha256,
        vars: options.vars,
        limits: { ...cpConfig.defaultLimits },
      });
      grpc.hub.notifyChanged();
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (runs(version)) return { ok: true, version };
        const nack = rejected(version);
        if (nack) return { ok: false, version, error: nack.error };
        if (Date.now() > deadline) return { ok: false, version, error: "the node did not answer in 30 s" };
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      tail.close(session);
      await node.stop();
      await grpc.close();
      await store.close();
    },
  };
}
