import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { EdgeError, ERROR_CODES, type ErrorCode, errorBody, isEdgeError } from "../errors.js";

/** fastify's own errors, answered with our codes so clients see one error shape. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "EDGE_SCRIPT_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "EDGE_UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_JSON_BODY: "EDGE_INVALID_BODY",
  FST_ERR_CTP_EMPTY_JSON_BODY: "EDGE_INVALID_BODY",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "EDGE_INVALID_BODY",
  FST_ERR_VALIDATION: "EDGE_INVALID_BODY",
  // The only route parameter is a script name; fastify refuses very long ones before routing.
  FST_ERR_MAX_PARAM_LENGTH: "EDGE_INVALID_NAME",
};

/** Our wording where fastify's would confuse (or, for params, echo the whole path). */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "The request body is not valid JSON",
  FST_ERR_MAX_PARAM_LENGTH: ERROR_CODES.EDGE_INVALID_NAME.message,
};

/** Turns anything thrown while handling a request into an `EdgeError`. */
export function toEdgeError(error: unknown, maxScriptBytes: number): EdgeError {
  if (isEdgeError(error)) return error;
  const { code: fastifyCode, message, statusCode } = (error ?? {}) as Partial<FastifyError>;
  const code = typeof fastifyCode === "string" ? FASTIFY_CODES[fastifyCode] : undefined;
  if (code === "EDGE_SCRIPT_TOO_LARGE") {
    return new EdgeError(code, `The script is larger than ${maxScriptBytes} bytes`, { cause: error });
  }
  if (code !== undefined) {
    return new EdgeError(code, FASTIFY_MESSAGES[fastifyCode!] ?? message, { cause: error });
  }
  // Other client errors fastify raises itself (bad URL encoding, ...) carry a safe message.
  const isClientError = typeof statusCode === "number" && statusCode >= 400 && statusCode < 500;
  if (isClientError && typeof fastifyCode === "string" && fastifyCode.startsWith("FST_")) {
    return new EdgeError("EDGE_BAD_REQUEST", message, { cause: error });
  }
  return new EdgeError("EDGE_INTERNAL", undefined, { cause: error });
}

function send(error: EdgeError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.kind === "system") {
    // The serialized error carries its cause chain: the detail the client is not shown.
    request.log.error({ err: error }, "request failed");
  } else {
    request.log.info({ code: error.code, status: error.status }, error.message);
  }
  if (error.code === "EDGE_UNAUTHORIZED") reply.header("www-authenticate", 'Bearer realm="edge"');
  return reply.status(error.status).send(errorBody(error));
}

/**
 * One error handler, one not-found handler, and a `frameworkErrors` hook for
 * the errors fastify raises before routing (bad URL encoding): every error a
 * client sees is `{ "error": { "code", "message" } }`.
 */
export function installErrorHandling(app: FastifyInstance, maxScriptBytes: number): void {
  app.setErrorHandler((error, request, reply) => send(toEdgeError(error, maxScriptBytes), request, reply));
  app.setNotFoundHandler((request, reply) => send(notFound(request), request, reply));
}

export function frameworkErrorHandler(maxScriptBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    send(toEdgeError(error, maxScriptBytes), request, reply);
  };
}

export function notFound(request: FastifyRequest): EdgeError {
  const path = request.url.split("?")[0] ?? request.url;
  return new EdgeError("EDGE_NOT_FOUND", `No route for ${request.method} ${path}`);
}
