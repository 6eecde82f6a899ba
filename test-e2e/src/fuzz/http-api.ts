import {
  buildApp,
  createControlPlaneRegistry,
  createGrpcServer,
  createMetricsAggregator,
  createSqliteMetricsStore,
  loadConfig,
  openStore,
  TailHub,
} from "@edge/control-plane";
import fc from "fast-check";
import { pino } from "pino";
import { count, type FuzzFigures, heapAfterGc, rssOf } from "./budget.js";

const TOKEN = "fuzz-admin-token-0123456789";
const HELLO = 'export default { fetch() { return new Response("hi"); } };';

const segment = fc.oneof(
  fc.constantFrom("hello", "a", "x-1", "", "..", "%00", "%2e%2e", "Hello", "a".repeat(64), "1", "0", "-1"),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const TEMPLATES = [
  "/v1/scripts/{n}",
  "/v1/scripts/{n}/versions",
  "/v1/scripts/{n}/versions/{v}",
  "/v1/scripts/{n}/vars",
  "/v1/scripts/{n}/secrets",
  "/v1/scripts/{n}/rollback",
  "/v1/scripts/{n}/rollout",
  "/v1/scripts/{n}/rollout/{v}",
  "/v1/scripts/{n}/logs",
  "/v1/scripts",
  "/v1/nodes",
  "/v1/nodes/enrolments",
  "/v1/nodes/enrolments/{n}",
  "/v1/metrics",
  "/v1/route",
  "/v1/{n}",
  "/metrics",
  "/healthz",
  "/readyz",
  "/{n}",
];
const query = fc.option(
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          "since",
          "until",
          "script",
          "pop",
          "version",
          "percent",
          "ip",
          "lat",
          "lon",
          "limit",
          fc.sample(fc.string(), 1)[0] ?? "x",
        ),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.integer().map(String),
          fc.constantFrom("NaN", "1e309", "-0", ""),
        ),
      ),
      { maxLength: 4 },
    )
    .map(
      (pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`,
    ),
  { nil: "" },
);
const path = fc
  .tuple(fc.constantFrom(...TEMPLATES), segment, segment, query)
  .map(([t, n, v, q]) => `${t.replace("{n}", n).replace("{v}", v)}${q}`);

const envMap = fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 });
const limitValue = fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.string({ maxLength: 4 }));
const source = fc.oneof(
  fc.constant(HELLO),
  fc.constant(`import fs from "node:fs";\n${HELLO}`),
  fc.constant("module.exports = {}"),
  fc.string({ maxLength: 200 }),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  source,
  fc
    .record(
      {
        source,
        language: fc.constantFrom("js", "ts", "py"),
        vars: envMap,
        secrets: envMap,
        limits: fc.record(
          { cpuMs: limitValue, memoryMb: limitValue, wallMs: limitValue },
          { requiredKeys: [] },
        ),
        nodeId: fc.constantFrom("fra-1", "FRA", "", "a".repeat(70)),
        pop: fc.constantFrom("fra", "x y", ""),
        version: fc.oneof(fc.integer(), fc.string({ maxLength: 3 })),
        percent: fc.oneof(fc.integer({ min: -5, max: 150 }), fc.double()),
        pops: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
        set: envMap,
        unset: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);
const headerValue = fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, ""));
const headers = fc.record(
  {
    authorization: fc.constantFrom(
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      "Bearer wrong",
      "",
      "Basic x",
    ),
    "content-type": fc.constantFrom(
      "application/json",
      "application/javascript",
      "application/typescript",
      "text/plain",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16",
      "",
    ),
    accept: headerValue,
    "x-random": headerValue,
  },
  { requiredKeys: ["authorization"] },
);
const request = fc.record({
  method: fc.constantFrom("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  path,
  headers,
  body,
});

/**
 * The control plane's HTTP API (`buildApp`, real store and push hub, `inject()`),
 * sent random methods, paths, headers and bodies. A 5xx, a crash or an error
 * without `{ error: { code: "EDGE_…" } }` fails it.
 */
export async function fuzzHttpApi(seconds: number): Promise<FuzzFigures> {
  const config = loadConfig({
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_LOG_LEVEL: "silent",
    EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    EDGE_SECRETS_KEY: "00".repeat(32),
    EDGE_NODE_ENROLMENT: "1",
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
  const grpc = createGrpcServer({ config, store, logger });
  const prometheus = createControlPlaneRegistry({ metrics, nodes: () => grpc.hub.nodes(), tail });
  const app = await buildApp(config, { store, hub: grpc.hub, metrics, tail, prometheus, logger });

  const figures: FuzzFigures = {
    target: "http-api",
    runs: 0,
    cases: 0,
    durationMs: 0,
    rssBeforeBytes: await rssOf(),
    heapBeforeBytes: await heapAfterGc(),
    heapAfterBytes: null,
    rssAfterBytes: 0,
    outcomes: {},
    failures: [],
  };
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        figures.runs += 1;
        figures.cases += 1;
        const headers = Object.fromEntries(Object.entries(r.headers).filter(([, v]) => v !== ""));
        const res = await app.inject({
          method: r.method as "GET",
          url: r.path,
          headers,
          ...(r.body === undefined || r.method === "GET" || r.method === "HEAD" ? {} : { payload: r.body }),
        });
        count(figures.outcomes, String(res.statusCode));
        const what = `${r.method} ${r.path} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
        if (res.statusCode >= 500) {
          figures.failures.push(what);
          throw new Error(what);
        }
        if (res.statusCode >= 400 && r.method !== "HEAD") {
          const code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code;
          if (typeof code !== "string" || !code.startsWith("EDGE_")) {
            figures.failures.push(`no EDGE_ error code: ${what}`);
            throw new Error(what);
          }
        }
      }),
      { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, endOnFailure: true },
    );
  } catch (error) {
    if (figures.failures.length === 0) figures.failures.push((error as Error).message.slice(0, 2000));
  } finally {
    figures.durationMs = Date.now() - started;
    figures.rssAfterBytes = await rssOf();
    figures.heapAfterBytes = await heapAfterGc();
    await app.close();
    await grpc.close();
    await metrics.close();
    await metricsStore.close();
    tail.shutdown();
    await store.close();
  }
  return figures;
}
