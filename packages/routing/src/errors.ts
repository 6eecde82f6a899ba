/**
 * Error codes of the routing package. Routing itself never fails: an unknown
 * location or an empty cluster is an answer (see `Choice`), not an error.
 * What can fail is loading geo data and settings at start-up.
 */
export const ROUTING_ERROR_CODES = {
  EDGE_INVALID_CONFIG: "Invalid routing configuration",
} as const;

export type RoutingErrorCode = keyof typeof ROUTING_ERROR_CODES;

const ROUTING_ERROR_MARKER = Symbol.for("@edge/routing.RoutingError");

export class RoutingError extends Error {
  readonly code: RoutingErrorCode;
  readonly [ROUTING_ERROR_MARKER] = true;

  constructor(code: RoutingErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ROUTING_ERROR_CODES[code], options);
    this.name = "RoutingError";
    this.code = code;
  }
}

export function isRoutingError(value: unknown): value is RoutingError {
  return typeof value === "object" && value !== null && ROUTING_ERROR_MARKER in value;
}

/** What a router answers when no node can take a request: 503 with this code. */
export const NO_HEALTHY_NODE = {
  code: "EDGE_NO_HEALTHY_NODE",
  status: 503,
  message: "No healthy edge node can serve this request",
} as const;
