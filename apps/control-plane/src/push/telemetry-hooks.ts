import type { ControlMessage, MetricsReport, NodeMessage } from "@edge/protocol";

/**
 * Where telemetry (metrics, live tail, log history: `src/metrics/`,
 * `src/tail/`) meets the push hub. The hub only forwards: a node's stream
 * opening and closing, and the messages it does not handle itself; telemetry
 * answers through `NodeLink.send` on the same stream.
 */
export interface NodeLink {
  readonly id: string;
  readonly pop: string;
  /** Queues a message on this node's stream; false once the stream is over. */
  send(msg: NonNullable<ControlMessage["msg"]>): boolean;
}

export interface NodeTelemetryHooks {
  /** A node said hello on a new stream. */
  opened?(node: NodeLink): void;
  /** That stream is over. */
  closed?(node: NodeLink): void;
  /** A metrics report arrived. */
  metrics?(node: NodeLink, report: MetricsReport): void;
  /** Any other message the hub does not handle (tail batches, log history replies). */
  message?(node: NodeLink, msg: NonNullable<NodeMessage["msg"]>): void;
}
