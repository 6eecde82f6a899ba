/**
 * The router's error codes. Every error a client sees over HTTP is
 * `{ "error": { "code", "message" } }` with the status below.
 */
export const ROUTER_ERRORS = {
  EDGE_NO_HEALTHY_NODE: { status: 503, message: "No healthy edge node can serve this request" },
  EDGE_UPSTREAM_UNREACHABLE: {
    status: 502,
    message: "The chosen PoP could not be reached, nor the next nearest",
  },
  EDGE_UPSTREAM_TIMEOUT: {
    status: 504,
    message: "The chosen PoP did not answer in time, and the request could not be sent elsewhere",
  },
  EDGE_UNKNOWN_HOST: { status: 404, message: "The host is not <script>.<zone>" },
  EDGE_BAD_REQUEST: { status: 400, message: "The request target is malformed" },
  EDGE_INVALID_CONFIG: { status: 500, message: "Invalid configuration" },
  EDGE_INTERNAL: { status: 500, message: "Internal error" },
} as const;

export type RouterErrorCode = keyof typeof ROUTER_ERRORS;

export interface ErrorBody {
  error: { code: RouterErrorCode; message: string };
}

export function errorBody(code: RouterErrorCode, message?: string): ErrorBody {
  return { error: { code, message: message ?? ROUTER_ERRORS[code].message } };
}

export class RouterConfigError extends Error {
  readonly code = "EDGE_INVALID_CONFIG";
}
