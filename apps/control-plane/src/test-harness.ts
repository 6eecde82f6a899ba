/**
 * Test support for the HTTP API (not exported from the package): the real app
 * on a real SQLite file in a temp directory, plus a small recording push hub
 * standing in for the gRPC side, and the real metrics aggregator (over an
 * in-memory metrics store) and tail hub with no node connected.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { pino } from "pino";
import { buildApp } from "./app.js";
import { type Config, loadConfig } from "./config.js";
import { createMetricsAggregator, type MetricsAggregator } from "./metrics/aggregator.js";
import { createControlPlaneRegistry } from "./metrics/prometheus.js";
import { createSqliteMetricsStore } from "./metrics/store/sqlite.js";
import type { MetricsSource, MetricsView } from "./metrics/types.js";
import type { NodeView, PushHub } from "./push/types.js";
import type { CronRunner } from "./routes/types.js";
import { createSqliteStore } from "./store/sqlite.js";
import type { Store } from "./store/types.js";
import { TailHub } from "./tail/tail-hub.js";

export const TEST_TOKEN = "test-admin-token";

/** A push hub that records how often it was told about a change and serves a settable node list. */
export interface RecordingHub extends PushHub {
  changes: number;
  nodeList: NodeView[];
  /** Node ids `revoke()` was called with. */
  revoked: string[];
}

export function recordingHub(): RecordingHub {
  return {
    changes: 0,
    nodeList: [],
    revoked: [],
    viewSettled: () => true,
    revoke(nodeId) {
      this.revoked.push(nodeId);
      return 0;
    },
    notifyChanged() {
      this.changes += 1;
    },
    nodes() {
      return this.nodeList;
    },
  };
}

/** A metrics source answering a fixed view (its scripts filtered by `?script=`, like the real one). */
export function fixedMetrics(view: Partial<MetricsView> = {}): MetricsSource {
  const full: MetricsView = { since: "", until: "", bucketSeconds: 60, scripts: [], edgeNodes: [], ...view };
  return {
    query: async ({ script }) =>
      script === undefined ? full : { ...full, scripts: full.scripts.filter((s) => s.script === script) },
  };
}

/** The telemetry deps `buildApp` needs, real but with no node behind them. */
export function telemetryDeps(hub: PushHub, metrics?: MetricsSource, config?: Config) {
  const silent = pino({ level: "silent" });
  const aggregator = createMetricsAggregator({
    store: createSqliteMetricsStore(":memory:"),
    logger: silent,
    flushMs: 60_000,
    retentionMs: 24 * 3_600_000,
  });
  const tail = new TailHub({
    logger: silent,
    ...(config?.tail ?? loadConfig({ EDGE_ADMIN_TOKEN: "test-admin-token" }).tail),
  });
  const prometheus = createControlPlaneRegistry({ metrics: aggregator, nodes: () => hub.nodes(), tail });
  return { metrics: metrics ?? aggregator, aggregator, tail, prometheus };
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  /** The SQLite file behind `store` (unless a store was given), for tests that check the stored bytes. */
  dbPath: string;
  hub: RecordingHub;
  config: Config;
  /** The real aggregator behind `/v1/metrics` and `/metrics` (unless `metrics` was given). */
  metrics: MetricsAggregator;
  tail: TailHub;
  /** Injects with the admin token unless `headers.authorization` is given. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** `PUT /v1/scripts/:name` with a raw JavaScript body. */
  deploy(name: string, source: string): Promise<LightMyRequestResponse>;
  /** `PUT <url>` with `payload` as a JSON body. */
  putJson(url: string, payload: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  metrics?: MetricsSource;
  hub?: RecordingHub;
  /** Default: a fresh SQLite file at `dbPath`, closed by `close()`; a given store is left open. */
  store?: Store;
  /** What the app sees of the store, built on the real one (`Harness.store` stays the real one). */
  wrapStore?: (store: Store) => Store;
  /** Cron Triggers' dispatcher for `POST …/scheduled`; default none (503 EDGE_NO_NODE). */
  cron?: CronRunner;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "edge-cp-api-"));
  const config = loadConfig({ EDGE_ADMIN_TOKEN: TEST_TOKEN, EDGE_LOG_LEVEL: "silent", ...options.env });
  const dbPath = join(dir, "control-plane.db");
  const store = options.store ?? createSqliteStore(dbPath);
  const hub = options.hub ?? recordingHub();
  const telemetry = telemetryDeps(hub, options.metrics, config);
  const app = await buildApp(config, {
    store: options.wrapStore ? options.wrapStore(store) : store,
    hub,
    metrics: telemetry.metrics,
    tail: telemetry.tail,
    prometheus: telemetry.prometheus,
    logger: pino({ level: "silent" }),
    ...(options.cron ? { cron: options.cron } : {}),
  });

  const request = (opts: InjectOptions) =>
    app.inject({ ...opts, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...opts.headers } });
  return {
    app,
    store,
    dbPath,
    hub,
    config,
    metrics: telemetry.aggregator,
    tail: telemetry.tail,
    request,
    deploy: (name, source) =>
      request({
        method: "PUT",
        url: `/v1/scripts/${name}`,
        headers: { "content-type": "application/javascript" },
        payload: source,
      }),
    putJson: (url, payload) =>
      request({
        method: "PUT",
        url,
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(payload),
      }),
    async close() {
      await app.close();
      await telemetry.aggregator.close();
      if (options.store === undefined) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const HELLO = 'export default { fetch() { return new Response("hello"); } };\n';
