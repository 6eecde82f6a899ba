/**
 * Errors the edge node's HTTP front answers with that do not come from a
 * script run (those are the isolate host's `RunError` codes).
 */
export const FRONT_ERRORS = {
  EDGE_SCRIPT_NOT_FOUND: 404,
  EDGE_UNKNOWN_HOST: 404,
  EDGE_UNAUTHORIZED: 401,
  EDGE_BODY_TOO_LARGE: 413,
  EDGE_BAD_HOST: 400,
  // CONNECT, TRACE and TRACK (forbidden methods in the Fetch standard).
  EDGE_METHOD_NOT_ALLOWED: 405,
  // Cloudflare answers a request that went through too many Workers with 508 (error 1019/1042).
  EDGE_LOOP_DETECTED: 508,
  EDGE_OVERLOADED: 503,
  EDGE_RESPONSE_HEADERS_TOO_LARGE: 502,
  EDGE_BAD_RESPONSE: 502,
  // The client went away before its response: recorded, never sent (nginx's 499).
  EDGE_CLIENT_CLOSED: 499,
  EDGE_INTERNAL: 500,
} as const;

export type FrontErrorCode = keyof typeof FRONT_ERRORS;

export interface ErrorBody {
  /** `location`: where a script threw, `file:line:column` in its own code (source maps applied). */
  error: { code: string; message: string; location?: string };
}

export function errorBody(code: string, message: string, location?: string | null): ErrorBody {
  return { error: { code, message, ...(location ? { location } : {}) } };
}

/**
 * What the tail and the logs show of a failure: the message, then the
 * script's stack frames (source-mapped) when it threw.
 */
export function describeFailure(err: { message: string; scriptStack?: string | null }): string {
  const frames = (err.scriptStack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  return frames.length === 0 ? err.message : `${err.message}\n${frames.join("\n")}`;
}
