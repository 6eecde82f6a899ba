/**
 * Test support for the HTTP API (not exported from the package): the real app
 * on a real SQLite file in a temp directory, plus a small recording push hub
 * and a fixed metrics source standing in for the gRPC side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { pino } from "pino";
import { buildApp } from "./app.js";
import { type Config, loadConfig } from "./config.js";
import type { MetricsSource, MetricsView, NodeView, PushHub } from "./push/types.js";
import { createSqliteStore } from "./store/sqlite.js";
import type { Store } from "./store/types.js";

export const TEST_TOKEN = "test-admin-token";

/** A push hub that records how often it was told about a change and serves a settable node list. */
export interface RecordingHub extends PushHub {
  changes: number;
  nodeList: NodeView[];
}

export function recordingHub(): RecordingHub {
  return {
    changes: 0,
    nodeList: [],
    notifyChanged() {
      this.changes += 1;
    },
    nodes() {
      return this.nodeList;
    },
  };
}

/** A metrics source over a fixed view, filtered by script like the real one. */
export function fixedMetrics(view: MetricsView): MetricsSource {
  return {
    view: (script) =>
      script === undefined ? view : { scripts: view.scripts.filter((s) => s.script === script) },
  };
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  hub: RecordingHub;
  config: Config;
  /** Injects with the admin token unless `headers.authorization` is given. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** `PUT /v1/scripts/:name` with a raw JavaScript body. */
  deploy(name: string, source: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startHarness(
  options: { env?: Record<string, string>; metrics?: MetricsView; hub?: RecordingHub } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "edge-cp-api-"));
  const config = loadConfig({ EDGE_ADMIN_TOKEN: TEST_TOKEN, EDGE_LOG_LEVEL: "silent", ...options.env });
  const store = createSqliteStore(join(dir, "control-plane.db"));
  const hub = options.hub ?? recordingHub();
  const metrics = fixedMetrics(options.metrics ?? { scripts: [] });
  const app = await buildApp(config, { store, hub, metrics, logger: pino({ level: "silent" }) });

  const request = (opts: InjectOptions) =>
    app.inject({ ...opts, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...opts.headers } });
  return {
    app,
    store,
    hub,
    config,
    request,
    deploy: (name, source) =>
      request({
        method: "PUT",
        url: `/v1/scripts/${name}`,
        headers: { "content-type": "application/javascript" },
        payload: source,
      }),
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const HELLO = 'export default { fetch() { return new Response("hello"); } };\n';
