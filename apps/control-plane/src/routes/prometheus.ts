import type { FastifyPluginAsync } from "fastify";

export interface PrometheusSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** `GET /metrics`: Prometheus text format, without the admin token (like /healthz). */
export const prometheusRoutes: FastifyPluginAsync<{ prometheus: PrometheusSource }> = async (
  app,
  { prometheus },
) => {
  app.get("/metrics", async (_request, reply) => {
    const body = await prometheus.metrics();
    return reply.type(prometheus.contentType).send(body);
  });
};
