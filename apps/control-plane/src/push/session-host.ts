import type { ControlMessage, Hello, NodeMessage } from "@edge/protocol";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { DesiredConfig } from "./desired.js";
import type { NodeSession } from "./node-session.js";
import type { NodeRecord } from "./registry.js";
import type { StreamErrorCode } from "./stream-errors.js";
import type { NodeTelemetryHooks } from "./telemetry-hooks.js";
import type { UpsertEncodings } from "./upsert-encodings.js";

export type ConnectCall = ServerDuplexStream<NodeMessage, ControlMessage>;

/** What a session needs from the hub. */
export interface SessionHost {
  readonly logger: Logger;
  readonly controlPlaneId: string;
  readonly heartbeatIntervalMs: number;
  /** Most bytes of resources one push carries; a larger delta goes out as several pushes. */
  readonly maxPushBytes: number;
  /** Encoded upserts shared by the streams that send the same pack at the same revision. */
  readonly encodings: UpsertEncodings;
  now(): number;
  /** Registers the node behind `session`; ends any older stream of the same node id. */
  attach(session: NodeSession, hello: Hello): NodeRecord;
  /** The stream is over. */
  detach(session: NodeSession, record: NodeRecord | null): void;
  /** A fresh read of the desired config (the first push of a stream). */
  desired(): Promise<DesiredConfig>;
  /** The latest desired config the hub has read, if any (a push held back by backpressure). */
  latestDesired(): DesiredConfig | null;
  /** The node's record changed in a way worth sharing with other replicas soon. */
  changed(record: NodeRecord): void;
  /** The node ACKed without errors: worth sharing too, though a large fleet's replicas may batch it. */
  acked(record: NodeRecord): void;
  /** Metrics, tail and logs: the session only forwards (see `telemetry-hooks.ts`). */
  readonly telemetry: NodeTelemetryHooks;
}

/** What checking a node's credential against its hello gave. */
export type HelloAuthResult =
  | {
      ok: true /** What the node authenticated with (a token hash), checked again until the stream ends. */;
      credential: string;
    }
  | { ok: false; code: StreamErrorCode; detail?: string };

/** Checks the credential a stream presented against the node id and PoP its hello claims. */
export type HelloAuthenticator = (hello: Hello) => Promise<HelloAuthResult>;
