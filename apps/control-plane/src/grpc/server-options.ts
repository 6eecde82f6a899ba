import { GRPC_CHANNEL_OPTIONS } from "@edge/protocol";
import type { ChannelOptions } from "@grpc/grpc-js";

/**
 * Agents ping every `grpc.keepalive_time_ms` (10 s), even between calls, so
 * the server states that it permits that: gRPC's default server policy allows
 * pings without data only every 5 minutes and answers faster ones with GOAWAY
 * (too_many_pings). grpc-js 1.14 does not enforce that policy yet, but the
 * options keep the contract explicit should it (or a proxy honouring them) do
 * so. Half the agents' interval leaves room for timer jitter. The server's own
 * keepalive (from GRPC_CHANNEL_OPTIONS) finds dead agents within ~15 s.
 */
const MIN_CLIENT_PING_INTERVAL_MS = Math.floor(GRPC_CHANNEL_OPTIONS["grpc.keepalive_time_ms"] / 2);

export const GRPC_SERVER_OPTIONS: ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": MIN_CLIENT_PING_INTERVAL_MS,
};
