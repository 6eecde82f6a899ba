/**
 * Values both sides of the link must agree on.
 */

/** Upper bounds (ms) of the latency histogram buckets nodes report; one overflow bucket follows. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
];

/** Upper bounds (ms) of the isolate CPU time histogram buckets nodes report; one overflow bucket follows. */
export const CPU_BOUNDS_MS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 75, 100, 250, 500, 1000,
];

/**
 * Largest gRPC message either side accepts. A full push carries every script's
 * source (each up to the script size limit, 1 MiB by default), so this is
 * well above grpc's 4 MiB default.
 */
export const MAX_GRPC_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Channel options shared by the server and the agents. */
export const GRPC_CHANNEL_OPTIONS = {
  "grpc.max_receive_message_length": MAX_GRPC_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_GRPC_MESSAGE_BYTES,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
} as const;
