import fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { bearerAuth } from "./http/auth.js";
import { frameworkErrorHandler, installErrorHandling, notFound } from "./http/error-handler.js";
import { guardStore } from "./http/guarded-store.js";
import { RequestLogController } from "./http/request-log.js";
import type { KvChangeListener } from "./kv/types.js";
import type { MetricsSource } from "./metrics/types.js";
import type { PushHub } from "./push/types.js";
import { consoleRoutes } from "./routes/console.js";
import { enrolmentRoutes } from "./routes/enrolments.js";
import { healthRoutes } from "./routes/health.js";
import { kvRoutes } from "./routes/kv/index.js";
import { logsRoutes } from "./routes/logs.js";
import { metricsRoutes } from "./routes/metrics.js";
import { nodeRoutes } from "./routes/nodes.js";
import { type PrometheusSource, prometheusRoutes } from "./routes/prometheus.js";
import { routeRoutes } from "./routes/route.js";
import { scriptRoutes } from "./routes/scripts/index.js";
import { tailRoutes } from "./routes/tail.js";
import type { CronRunner, RouteDeps } from "./routes/types.js";
import type { Store } from "./store/types.js";
import type { TailService } from "./tail/tail-hub.js";

export interface AppDeps {
  store: Store;
  hub: PushHub;
  metrics: MetricsSource;
  /** Live tail sessions and log history queries (`src/tail/`). */
  tail: TailService;
  /** Prometheus exposition for `GET /metrics` (a prom-client Registry). */
  prometheus: PrometheusSource;
  logger: Logger;
  /** KV replication to nodes (`src/kv/`); absent: nodes learn of KV writes on their next poll. */
  kv?: KvChangeListener;
  /** Cron Triggers' dispatcher, for `POST /v1/scripts/:name/scheduled`; absent: that answers 503. */
  cron?: CronRunner;
}

/**
 * The largest request body: a JSON deploy envelope may be bigger than the
 * source it carries (escaping, vars), so it gets room beyond
 * `EDGE_MAX_SCRIPT_BYTES`; the source itself is still held to that limit, and a
 * raw `application/javascript` body is capped at exactly that limit.
 */
export function requestBodyLimit(config: Config): number {
  return config.maxScriptBytes * 2 + 64 * 1024;
}

/**
 * Builds the admin HTTP API; does not listen (`main.ts` does, tests use
 * `inject()`). `/healthz`, `/readyz` and `/metrics` (Prometheus) are open;
 * everything under `/v1` needs `Authorization: Bearer <EDGE_ADMIN_TOKEN>`.
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = fastify({
    // Typed as fastify's logger interface so the instance keeps fastify's default generics.
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: requestBodyLimit(config),
    frameworkErrors: frameworkErrorHandler(config.maxScriptBytes),
    // One line per request, at a level that keeps polling and health checks out of sight.
    logController: new RequestLogController(),
  });

  // Only JSON (everywhere) and JavaScript (on deploy) bodies are understood: anything else is 415.
  app.removeContentTypeParser("text/plain");
  installErrorHandling(app, config.maxScriptBytes);

  const store = guardStore(deps.store);
  const routeDeps: RouteDeps = {
    config,
    store,
    hub: deps.hub,
    metrics: deps.metrics,
    tail: deps.tail,
    kv: deps.kv ?? { changed: () => {} },
    cron: deps.cron ?? null,
  };

  await app.register(healthRoutes, { store });
  await app.register(prometheusRoutes, { prometheus: deps.prometheus, token: config.metricsToken });
  await app.register(consoleRoutes);
  await app.register(
    async (v1) => {
      v1.addHook("onRequest", bearerAuth(config.adminToken));
      // Scoped here so an unknown /v1 path needs the token too: no route discovery without it.
      v1.setNotFoundHandler(async (request) => {
        throw notFound(request);
      });
      await v1.register(scriptRoutes, routeDeps);
      await v1.register(nodeRoutes, routeDeps);
      await v1.register(enrolmentRoutes, routeDeps);
      await v1.register(metricsRoutes, routeDeps);
      await v1.register(tailRoutes, routeDeps);
      await v1.register(logsRoutes, routeDeps);
      await v1.register(routeRoutes, routeDeps);
      await v1.register(kvRoutes, routeDeps);
    },
    { prefix: "/v1" },
  );
  return app;
}
