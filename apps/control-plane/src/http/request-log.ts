import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/** Methods that change nothing: their successful requests are logged at debug only. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The level a finished request is logged at: errors (5xx `error`, 4xx `warn`)
 * and writes (`info`) are what an operator reads; successful reads — health
 * checks, the router's node-view polling, dashboards — are `debug`.
 */
export function requestLogLevel(method: string, statusCode: number): "error" | "warn" | "info" | "debug" {
  if (statusCode >= 500) return "error";
  if (statusCode >= 400) return "warn";
  return READS.has(method) ? "debug" : "info";
}

/**
 * Fastify's request lines, made readable: nothing when a request comes in, and
 * one line when it is done — method, route, status and time — at the level
 * `requestLogLevel` picks (instead of two `info` lines for every request).
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.trace({ method: request.method, url: request.url }, "incoming request");
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const level = error ? "error" : requestLogLevel(request.method, reply.statusCode);
    request.log[level](
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ...(error ? { err: error } : {}),
      },
      `${request.method} ${request.routeOptions.url ?? request.url} ${reply.statusCode}`,
    );
  }
}
