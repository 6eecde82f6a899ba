import { scrapeAuthorizer } from "@edge/prometheus";
import type { FastifyPluginAsync } from "fastify";
import { EdgeError } from "../errors.js";

export interface PrometheusSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * `GET /metrics`: Prometheus text format, outside `/v1` and its admin token.
 * With a metrics token configured, a scrape must present it as a bearer token.
 */
export const prometheusRoutes: FastifyPluginAsync<{
  prometheus: PrometheusSource;
  token: string | null;
}> = async (app, { prometheus, token }) => {
  const allowed = scrapeAuthorizer(token);
  app.get("/metrics", async (request, reply) => {
    if (!allowed(request.headers.authorization)) throw new EdgeError("EDGE_UNAUTHORIZED");
    const body = await prometheus.metrics();
    return reply.type(prometheus.contentType).send(body);
  });
};
