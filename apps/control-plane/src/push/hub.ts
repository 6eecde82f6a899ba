import type { Hello, MetricsReport } from "@edge/protocol";
import type { Logger } from "pino";
import type { Snapshot, Store } from "../store/types.js";
import { Coalescer } from "./coalescer.js";
import { type ConnectCall, NodeSession, type SessionHost } from "./node-session.js";
import { type NodeRecord, NodeRegistry } from "./registry.js";
import type { NodeView, PushHub } from "./types.js";

export interface PushHubOptions {
  store: Store;
  /** Already bound to `{ component: "grpc" }`; sessions add `{ nodeId, pop }`. */
  logger: Logger;
  controlPlaneId: string;
  nodeTimeoutMs: number;
  /** Receives every metrics report, with the node that sent it. */
  onMetrics(node: { id: string; pop: string }, report: MetricsReport): void;
  /** Debounce for `notifyChanged()` bursts (default 50 ms), capped at `maxPushDelayMs` (default 250 ms). */
  pushDelayMs?: number;
  maxPushDelayMs?: number;
  now?: () => number;
}

export interface ConnectHub extends PushHub {
  /** The grpc-js handler for `ControlPlaneService.Connect`. */
  connect(call: ConnectCall): void;
  /** Stops pushing and ends every stream with UNAVAILABLE, so nodes reconnect elsewhere. */
  close(): Promise<void>;
}

/**
 * Nodes are told to heartbeat often enough that at least three beats fit in
 * `nodeTimeoutMs` (one lost beat must not make a node `disconnected`), and
 * never more often than every 50 ms nor less often than every 5 s.
 */
export function heartbeatIntervalFor(nodeTimeoutMs: number): number {
  return Math.max(50, Math.min(5_000, Math.floor(nodeTimeoutMs / 3)));
}

export function createPushHub(options: PushHubOptions): ConnectHub {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const registry = new NodeRegistry(options.nodeTimeoutMs, now);
  const sessions = new Set<NodeSession>();

  const host: SessionHost = {
    logger,
    controlPlaneId: options.controlPlaneId,
    heartbeatIntervalMs: heartbeatIntervalFor(options.nodeTimeoutMs),
    now,
    attach(session: NodeSession, hello: Hello): NodeRecord {
      const { record, replaced } = registry.attach(hello, session);
      if (replaced instanceof NodeSession && replaced !== session) replaced.end("EDGE_SESSION_REPLACED");
      return record;
    },
    detach(session: NodeSession, record: NodeRecord | null): void {
      sessions.delete(session);
      if (record !== null) registry.detach(record, session);
    },
    snapshot: (): Promise<Snapshot> => store.snapshot(),
    metrics(record: NodeRecord, report: MetricsReport): void {
      options.onMetrics({ id: record.id, pop: record.pop }, report);
    },
  };

  const pushes = new Coalescer(
    async () => {
      if (sessions.size === 0) return;
      const snapshot = await store.snapshot();
      for (const session of sessions) session.sync(snapshot);
    },
    {
      delayMs: options.pushDelayMs ?? 50,
      maxDelayMs: options.maxPushDelayMs ?? 250,
      retryDelayMs: 1_000,
      onError: (error) => logger.error({ err: error }, "cannot read the store to push changes; will retry"),
    },
  );

  let closed = false;
  return {
    connect(call: ConnectCall): void {
      const session = new NodeSession(call, host);
      if (closed) session.end("EDGE_SHUTTING_DOWN");
      else sessions.add(session);
    },
    notifyChanged(): void {
      pushes.request();
    },
    nodes(): NodeView[] {
      return registry.views();
    },
    async close(): Promise<void> {
      closed = true;
      await pushes.close();
      for (const session of [...sessions]) session.end("EDGE_SHUTTING_DOWN");
    },
  };
}
