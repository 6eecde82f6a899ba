/**
 * The control plane's closed set of error codes. Every error that reaches a
 * client is one of these, answered as `{ "error": { "code", "message" } }`.
 *
 * `user` errors are the caller's fault and are answered with the message as is;
 * `system` errors are logged with their cause and answered with the generic
 * message only, so internals never leak.
 */

export type ErrorKind = "user" | "system";

interface ErrorSpec {
  status: number;
  kind: ErrorKind;
  /** Default message, used when no specific one is given (always for system errors). */
  message: string;
}

export const ERROR_CODES = {
  EDGE_UNAUTHORIZED: { status: 401, kind: "user", message: "Missing or invalid bearer token" },
  EDGE_INVALID_NAME: {
    status: 400,
    kind: "user",
    message: "Script names are 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
  },
  EDGE_INVALID_SCRIPT: { status: 400, kind: "user", message: "The script is not a valid ES module" },
  EDGE_INVALID_BODY: { status: 400, kind: "user", message: "The request body is invalid" },
  EDGE_INVALID_QUERY: { status: 400, kind: "user", message: "A query parameter is invalid" },
  EDGE_BAD_REQUEST: { status: 400, kind: "user", message: "The request is malformed" },
  EDGE_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    kind: "user",
    message:
      "Unsupported content type: send application/javascript, application/typescript or application/json",
  },
  EDGE_SCRIPT_TOO_LARGE: { status: 413, kind: "user", message: "The script is larger than allowed" },
  EDGE_SCRIPT_NOT_FOUND: { status: 404, kind: "user", message: "No such script" },
  EDGE_VERSION_NOT_FOUND: { status: 404, kind: "user", message: "No such version of the script" },
  EDGE_MODULE_NOT_FOUND: { status: 404, kind: "user", message: "No such module in the version" },
  EDGE_NOT_FOUND: { status: 404, kind: "user", message: "No such route" },
  EDGE_LIMIT_TOO_HIGH: { status: 400, kind: "user", message: "A limit is above the configured maximum" },
  EDGE_INVALID_CRON: { status: 400, kind: "user", message: "A Cron Trigger expression is invalid" },
  EDGE_ROLLOUT_CONFLICT: {
    status: 409,
    kind: "user",
    message: "That version is already active: deploy another version gradually",
  },
  EDGE_CONFLICT: {
    status: 409,
    kind: "user",
    message: "The script kept changing while this change was applied; retry",
  },
  EDGE_NO_ROLLOUT: { status: 409, kind: "user", message: "The script has no gradual rollout in progress" },
  EDGE_ENV_CONFLICT: {
    status: 400,
    kind: "user",
    message: "A name cannot be both a var and a secret of the same script",
  },
  // A user error (the message is shown) with a 5xx status: the operator, not the caller, must act.
  EDGE_NO_NODE: {
    status: 503,
    kind: "user",
    message: "No edge node connected to this control plane could run the scheduled event",
  },
  EDGE_SECRETS_DISABLED: {
    status: 501,
    kind: "user",
    message: "Secrets need EDGE_SECRETS_KEY (32 bytes, hex or base64) set on the control plane",
  },
  EDGE_ENROLMENT_EXISTS: {
    status: 409,
    kind: "user",
    message: "That node id is enrolled already: revoke it first to issue a new token",
  },
  EDGE_ENROLMENT_NOT_FOUND: { status: 404, kind: "user", message: "No enrolment for that node id" },
  EDGE_TOO_MANY_TAILS: { status: 429, kind: "user", message: "Too many live tail sessions are open" },
  EDGE_KV_NAMESPACE_EXISTS: { status: 409, kind: "user", message: "A KV namespace of that name exists" },
  EDGE_KV_NAMESPACE_NOT_FOUND: { status: 404, kind: "user", message: "No such KV namespace" },
  EDGE_KV_KEY_NOT_FOUND: { status: 404, kind: "user", message: "No such key in the KV namespace" },
  EDGE_KV_INVALID_NAME: {
    status: 400,
    kind: "user",
    message: "KV namespace names are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'",
  },
  EDGE_KV_INVALID_KEY: { status: 400, kind: "user", message: "KV keys are 1-512 bytes and not '.' or '..'" },
  EDGE_KV_VALUE_TOO_LARGE: { status: 413, kind: "user", message: "KV values are at most 25 MiB" },
  EDGE_KV_INVALID_METADATA: {
    status: 400,
    kind: "user",
    message: "KV metadata is JSON of at most 1024 bytes serialized",
  },
  EDGE_KV_INVALID_EXPIRATION: {
    status: 400,
    kind: "user",
    message: "A KV expiration must be at least 60 seconds in the future",
  },
  EDGE_KV_INVALID_BINDING: { status: 400, kind: "user", message: "A binding is invalid" },
  EDGE_INVALID_CONFIG: { status: 500, kind: "system", message: "Invalid configuration" },
  EDGE_SECRET_UNREADABLE: { status: 500, kind: "system", message: "A stored secret cannot be decrypted" },
  EDGE_STORE_UNAVAILABLE: { status: 503, kind: "system", message: "The store is unavailable" },
  EDGE_INTERNAL: { status: 500, kind: "system", message: "Internal error" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Recognised by this marker rather than `instanceof`, so copies of the module (or realms) agree. */
const EDGE_ERROR_MARKER = Symbol.for("@edge/control-plane.EdgeError");

export class EdgeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly [EDGE_ERROR_MARKER] = true;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(message ?? spec.message, options);
    this.name = "EdgeError";
    this.code = code;
    this.status = spec.status;
    this.kind = spec.kind;
  }
}

export function isEdgeError(value: unknown): value is EdgeError {
  return typeof value === "object" && value !== null && EDGE_ERROR_MARKER in value;
}

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** What a client may see: system errors answer with the generic message only. */
export function errorBody(error: EdgeError): ErrorBody {
  const message = error.kind === "system" ? ERROR_CODES[error.code].message : error.message;
  return { error: { code: error.code, message } };
}
