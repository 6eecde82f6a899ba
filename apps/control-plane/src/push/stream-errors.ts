import { status } from "@grpc/grpc-js";

/**
 * Why the control plane ends a node's stream. These never reach HTTP; they
 * travel as the gRPC status, with the code leading the details string
 * ("EDGE_HELLO_REQUIRED: ...") so agents and logs can match on it.
 */
export const STREAM_ERRORS = {
  EDGE_HELLO_REQUIRED: {
    grpcStatus: status.INVALID_ARGUMENT,
    message: "The first message on a stream must be hello",
  },
  EDGE_INVALID_HELLO: { grpcStatus: status.INVALID_ARGUMENT, message: "The hello is invalid" },
  EDGE_DUPLICATE_HELLO: {
    grpcStatus: status.INVALID_ARGUMENT,
    message: "hello was already received on this stream",
  },
  EDGE_NODE_UNAUTHENTICATED: {
    grpcStatus: status.UNAUTHENTICATED,
    message: "The node did not present the enrolment token (EDGE_NODE_TOKEN)",
  },
  EDGE_NODE_REVOKED: {
    grpcStatus: status.UNAUTHENTICATED,
    message: "The node's enrolment was revoked",
  },
  EDGE_SESSION_REPLACED: {
    grpcStatus: status.ABORTED,
    message: "A newer stream from the same node id replaced this one",
  },
  EDGE_NODE_SILENT: {
    grpcStatus: status.UNAVAILABLE,
    message: "Nothing was heard from the node for too long; reconnect",
  },
  EDGE_STORE_UNAVAILABLE: {
    grpcStatus: status.UNAVAILABLE,
    message: "The control plane could not read its store; retry",
  },
  EDGE_SHUTTING_DOWN: { grpcStatus: status.UNAVAILABLE, message: "The control plane is shutting down" },
} as const satisfies Record<string, { grpcStatus: status; message: string }>;

export type StreamErrorCode = keyof typeof STREAM_ERRORS;

/** The status object grpc-js sends when it is emitted as the stream's 'error'; `detail` replaces the default message. */
export function streamStatus(code: StreamErrorCode, detail?: string): { code: status; details: string } {
  const spec = STREAM_ERRORS[code];
  return { code: spec.grpcStatus, details: `${code}: ${detail ?? spec.message}` };
}
