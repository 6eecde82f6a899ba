import { GRPC_CHANNEL_OPTIONS, MAX_GRPC_MESSAGE_BYTES } from "@edge/protocol";
import type { ChannelOptions } from "@grpc/grpc-js";

/**
 * Agents ping every `grpc.keepalive_time_ms` (10 s), even between calls, so
 * the server states that it permits that: gRPC's default server policy allows
 * pings without data only every 5 minutes and answers faster ones with GOAWAY
 * (too_many_pings). grpc-js 1.14 does not enforce that policy itself, but the
 * options keep the contract explicit should it (or a proxy honouring them) do
 * so; the agent's rate is half the permitted interval's inverse, leaving room
 * for timer jitter. The server's own keepalive (from GRPC_CHANNEL_OPTIONS)
 * finds dead agents within ~15 s, and the hub ends streams of nodes silent
 * for twice the node timeout (application-level enforcement).
 *
 * `grpc-node.max_session_memory` bounds what one HTTP/2 session (one node)
 * may buffer; grpc-js leaves it unlimited by default. The writer honours
 * backpressure, so a slow node never needs more than a push or two.
 */
const MIN_CLIENT_PING_INTERVAL_MS = Math.floor(GRPC_CHANNEL_OPTIONS["grpc.keepalive_time_ms"] / 2);

/** Per-session memory cap in MB (nghttp2's unit). */
const MAX_SESSION_MEMORY_MB = 256;

export function grpcServerOptions(maxMessageBytes: number = MAX_GRPC_MESSAGE_BYTES): ChannelOptions {
  return {
    ...GRPC_CHANNEL_OPTIONS,
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": MIN_CLIENT_PING_INTERVAL_MS,
    "grpc-node.max_session_memory": Math.max(MAX_SESSION_MEMORY_MB, Math.ceil((3 * maxMessageBytes) / 1e6)),
  };
}

export const GRPC_SERVER_OPTIONS: ChannelOptions = grpcServerOptions();
