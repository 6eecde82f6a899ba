import { type Hello, MAX_GRPC_MESSAGE_BYTES } from "@edge/protocol";
import type { Logger } from "pino";
import { openSnapshotSecrets } from "../secrets/open-snapshot.js";
import { createSecretBox } from "../secrets/secret-box.js";
import type { Snapshot, Store } from "../store/types.js";
import { Coalescer } from "./coalescer.js";
import { ConsistencyCheck } from "./consistency.js";
import { DesiredConfig } from "./desired.js";
import { NodeSession } from "./node-session.js";
import { type NodeRecord, NodeRegistry } from "./registry.js";
import type { ConnectCall, HelloAuthenticator, SessionHost } from "./session-host.js";
import type { NodeTelemetryHooks } from "./telemetry-hooks.js";
import type { NodeView, PushHub } from "./types.js";
import { UpsertEncodings } from "./upsert-encodings.js";

export interface PushHubOptions {
  store: Store;
  /** Already bound to `{ component: "grpc" }`; sessions add `{ nodeId, pop }`. */
  logger: Logger;
  controlPlaneId: string;
  nodeTimeoutMs: number;
  /**
   * A node not heard from for this long is forgotten, here and in the store
   * (default 24 h); one that reconnects simply reappears.
   */
  nodeRetentionMs?: number;
  /** Telemetry (metrics, tail, logs) riding on the node streams; the hub only forwards. */
  telemetry?: NodeTelemetryHooks;
  /** Change batching window (default 100 ms): a burst of changes costs one push per window. */
  batchMs?: number;
  /** Largest message sent to a node (default MAX_GRPC_MESSAGE_BYTES); a larger delta is split. */
  maxMessageBytes?: number;
  /** Opens the secrets merged into each script's env on the wire; null or absent: none can be opened. */
  secretsKey?: Buffer | null;
  /**
   * Per-node enrolment on: sessions that authenticated are checked again every
   * `ENROLMENT_RECHECK_MS` against the store's enrolments, so a revocation made
   * through any replica ends the node's stream here too.
   */
  enrolment?: boolean;
  /** How long after start the node view counts as settled even with nodes missing (default 45 s). */
  settleMs?: number;
  /** Whether the store answers (drives grpc.health.v1); called when it changes. */
  onStoreHealth?(healthy: boolean): void;
  now?: () => number;
}

export interface ConnectHub extends PushHub {
  /**
   * The grpc-js handler for `ControlPlaneService.Connect`; `authenticate`
   * (per-node enrolment) checks the credential against the hello before the
   * node is recorded or sent anything.
   */
  connect(call: ConnectCall, authenticate?: HelloAuthenticator): void;
  /** The live scripts as last read from the store (null before the first read): metrics of others are dropped. */
  liveScripts(): ReadonlySet<string> | null;
  /** Stops pushing and ends every stream with UNAVAILABLE, so nodes reconnect elsewhere. */
  close(): Promise<void>;
}

/** Default `nodeRetentionMs`. */
export const DEFAULT_NODE_RETENTION_MS = 24 * 3_600_000;

/**
 * Default `settleMs`: agents back off up to 30 s between attempts while a
 * control plane is away, plus jitter, so all of them are back within this.
 */
export const DEFAULT_SETTLE_MS = 45_000;

/** Forgotten nodes are swept at most this often (more often for a retention below 40 minutes). */
const NODE_SWEEP_EVERY_MS = 10 * 60_000;

/** How often sessions are checked against the stored enrolments (a revocation on another replica). */
const ENROLMENT_RECHECK_MS = 2_000;

/**
 * How often a replica reads the node states the others shared: every share
 * run (about once a second) up to 2,000 known nodes, then 1 s more per 2,000,
 * at most every 5 s. Other replicas' nodes so lag by up to that in
 * `GET /v1/nodes`; a replica's own nodes never do.
 */
export function remoteReadEveryMs(knownNodes: number): number {
  return Math.min(5_000, Math.floor(knownNodes / 2_000) * 1_000);
}

/** Room left in a message for everything but the resources (nonce, names, framing). */
const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/**
 * Nodes are told to heartbeat often enough that at least three beats fit in
 * `nodeTimeoutMs` (one lost beat must not make a node `disconnected`), and
 * never more often than every 50 ms nor less often than every 5 s.
 */
export function heartbeatIntervalFor(nodeTimeoutMs: number): number {
  return Math.max(50, Math.min(5_000, Math.floor(nodeTimeoutMs / 3)));
}

/** The most bytes of resources one push may carry, given the message limit. */
export function pushBudget(maxMessageBytes: number): number {
  return maxMessageBytes - MESSAGE_OVERHEAD_BYTES;
}

/**
 * The push side of one control-plane replica. It learns of changes from its
 * own API (`notifyChanged`) and from the store's change feed (writes made by
 * any replica), batches them, reads the store's snapshot once per batch,
 * checks it, and sends each connected node its delta. Node state is shared
 * through the store so every replica lists every node.
 */
export function createPushHub(options: PushHubOptions): ConnectHub {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const heartbeatIntervalMs = heartbeatIntervalFor(options.nodeTimeoutMs);
  const maxPushBytes = pushBudget(options.maxMessageBytes ?? MAX_GRPC_MESSAGE_BYTES);
  const registry = new NodeRegistry(options.controlPlaneId, options.nodeTimeoutMs, now);
  const consistency = new ConsistencyCheck({ maxResourceBytes: maxPushBytes });
  const secretBox = options.secretsKey ? createSecretBox(options.secretsKey) : null;
  const sessions = new Set<NodeSession>();
  let latest: DesiredConfig | null = null;
  let helloRead: Promise<DesiredConfig> | null = null;
  let lastProblems = "";
  const nodeRetentionMs = options.nodeRetentionMs ?? DEFAULT_NODE_RETENTION_MS;
  const startedAt = now();
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  let settled = false;
  const sweepEveryMs = Math.min(NODE_SWEEP_EVERY_MS, Math.ceil(nodeRetentionMs / 4));
  // The first share run sweeps at once: a replica starting after an outage cleans up first.
  let lastSweep = Number.NEGATIVE_INFINITY;

  /** Opens secrets and runs the consistency check over a snapshot (or the part of it that changed). */
  const checked = (read: Snapshot): { snapshot: Snapshot; withheld: Set<string>; problems: string[] } => {
    // Secrets are opened here and travel as env entries; a script whose secrets do not open is withheld.
    const opened = openSnapshotSecrets(read, secretBox);
    const { withheld, problems } = consistency.check(opened.snapshot);
    for (const { name, problem } of opened.problems) {
      withheld.add(name);
      problems.push(`${name}: ${problem}`);
    }
    return { snapshot: opened.snapshot, withheld, problems };
  };

  const reportProblems = (problems: string[], changedOnly: boolean): void => {
    const summary = problems.join("; ");
    if (changedOnly ? problems.length === 0 : summary === lastProblems) return;
    lastProblems = summary;
    if (problems.length > 0) logger.error({ problems }, "snapshot failed the consistency check: withheld");
  };

  /**
   * The store's desired config now. Once a snapshot was read, the hub follows
   * the store change by change (`changesSince`): a deploy costs the scripts
   * it changed, not every script. The whole snapshot is read again only when
   * the store cannot say what changed (its feed was trimmed, it lost writes).
   */
  const readDesired = async (): Promise<DesiredConfig> => {
    if (latest !== null) {
      const current = latest;
      const changes = await store.changesSince(current.revision);
      if (changes !== null) {
        if (changes.revision > current.revision) {
          const { snapshot, withheld, problems } = checked(changes);
          reportProblems(problems, true);
          current.apply({ ...snapshot, changed: changes.changed, withheld });
        }
        return current;
      }
    }
    const { snapshot, withheld, problems } = checked(await store.snapshot());
    reportProblems(problems, false);
    const desired = new DesiredConfig(snapshot, withheld);
    if (latest === null || desired.revision >= latest.revision) latest = desired;
    return desired;
  };

  // Every replica sweeps the store as well as itself: a replica that died left its nodes behind.
  const sweep = async (): Promise<void> => {
    if (now() - lastSweep < sweepEveryMs) return;
    lastSweep = now();
    const cutoff = lastSweep - nodeRetentionMs;
    const local = registry.prune(cutoff);
    const removed = await store.pruneNodeStates(cutoff);
    if (local.length > 0 || removed > 0) {
      logger.info(
        { nodes: local, fromStore: removed, retentionMs: nodeRetentionMs },
        "forgot nodes silent past the retention",
      );
    }
  };

  let lastRemoteRead = Number.NEGATIVE_INFINITY;
  const share = new Coalescer(
    async () => {
      await sweep();
      const states = registry.takeStatesToShare(
        now(),
        heartbeatIntervalMs,
        remoteReadEveryMs(registry.knownCount),
      );
      try {
        await store.saveNodeStates(states);
      } catch (error) {
        registry.markUnshared(states.map((state) => state.id));
        throw error;
      }
      // Other replicas' nodes: every run for a small fleet, less often for a large one (reading and
      // decoding every node's state is the bulk of a replica's idle cost at thousands of nodes).
      if (now() - lastRemoteRead >= remoteReadEveryMs(registry.knownCount)) {
        lastRemoteRead = now();
        registry.setShared(await store.listNodeStates());
      }
    },
    {
      // At most one write per second: other replicas' views of these nodes lag by that much.
      windowMs: Math.min(1_000, heartbeatIntervalMs),
      retryDelayMs: 1_000,
      onError: (error) => logger.warn({ err: error }, "cannot share node states through the store"),
      now,
    },
  );

  const host: SessionHost = {
    logger,
    controlPlaneId: options.controlPlaneId,
    heartbeatIntervalMs,
    maxPushBytes,
    encodings: new UpsertEncodings(),
    now,
    attach(session: NodeSession, hello: Hello): NodeRecord {
      const { record, replaced } = registry.attach(hello, session);
      if (replaced instanceof NodeSession && replaced !== session) replaced.end("EDGE_SESSION_REPLACED");
      share.request();
      return record;
    },
    detach(session: NodeSession, record: NodeRecord | null): void {
      sessions.delete(session);
      if (record !== null) registry.detach(record, session);
      share.request();
    },
    // Nodes connecting together (a replica died, a thousand nodes arrive) share one read. Safe: a
    // write after that read started triggers a run that syncs every open session anyway.
    desired: () => {
      helloRead ??= readDesired().finally(() => {
        helloRead = null;
      });
      return helloRead;
    },
    latestDesired: () => latest,
    changed(record: NodeRecord): void {
      record.dirty = true;
      share.request();
    },
    // A deploy to a large fleet brings thousands of ACKs at once: their states go out in batches,
    // every `remoteReadEveryMs` (at once for up to 2,000 nodes), not one write of all per deploy.
    acked(record: NodeRecord): void {
      if (remoteReadEveryMs(registry.knownCount) === 0) {
        record.dirty = true;
        share.request();
      } else {
        record.ackDirty = true;
      }
    },
    telemetry: options.telemetry ?? {},
  };

  let highestRevision = 0;
  const pushes = new Coalescer(
    async () => {
      const desired = await readDesired();
      // Revisions only grow; a lower one means the store lost writes (Redis without AOF).
      // It is still the truth, so nodes follow it.
      const reset = desired.revision < highestRevision;
      if (reset) {
        logger.error(
          { revision: desired.revision, highestRevision },
          "the store's revision went back: it lost acknowledged writes (is Redis AOF with appendfsync always on?)",
        );
        latest = desired;
      }
      highestRevision = desired.revision;
      let sent = false;
      for (const session of sessions) sent = session.sync(desired, reset) || sent;
      // A run that sent nothing (a change already pushed) leaves the batching window free.
      return sent;
    },
    {
      windowMs: options.batchMs ?? 100,
      retryDelayMs: 1_000,
      onError: (error) => logger.error({ err: error }, "cannot read the store to push changes; will retry"),
      now,
    },
  );

  let storeHealthy = true;
  const setStoreHealth = (healthy: boolean): void => {
    if (healthy === storeHealthy) return;
    storeHealthy = healthy;
    options.onStoreHealth?.(healthy);
  };
  const watch = store.watch({
    onChange: (revision) => {
      setStoreHealth(true);
      // Usually this replica's own write coming back through the feed: pushed already.
      if (revision !== undefined && revision <= highestRevision) return;
      pushes.request();
    },
    onError: (error) => {
      setStoreHealth(false);
      logger.warn({ err: error }, "store change feed interrupted; resuming when it is back");
    },
  });

  // Shares node states, and ends streams of nodes silent for twice the timeout: they are
  // `disconnected` already, and a fresh stream (perhaps to another replica) is their best chance.
  const tick = setInterval(
    () => {
      share.request();
      const silentSince = now() - 2 * options.nodeTimeoutMs;
      for (const session of sessions) {
        const record = session.node;
        if (record !== null && record.lastSeenMs < silentSince) session.end("EDGE_NODE_SILENT");
      }
    },
    Math.min(1_000, heartbeatIntervalMs),
  );
  tick.unref();

  // A revoked (or re-issued) enrolment ends the streams that authenticated with the old token.
  const recheck = options.enrolment
    ? new Coalescer(
        async () => {
          const enrolled = new Map((await store.listEnrolments()).map((e) => [e.nodeId, e.tokenSha256]));
          for (const session of sessions) {
            const record = session.node;
            if (record === null || session.credential === null) continue;
            if (enrolled.get(record.id) !== session.credential) session.end("EDGE_NODE_REVOKED");
          }
          return true;
        },
        {
          windowMs: ENROLMENT_RECHECK_MS,
          retryDelayMs: ENROLMENT_RECHECK_MS,
          onError: (error) => logger.warn({ err: error }, "cannot read node enrolments; will retry"),
          now,
        },
      )
    : null;
  const recheckTimer = recheck ? setInterval(() => recheck.request(), ENROLMENT_RECHECK_MS) : null;
  recheckTimer?.unref();

  let closed = false;
  return {
    connect(call: ConnectCall, authenticate?: HelloAuthenticator): void {
      const session = new NodeSession(call, host, authenticate ?? null);
      if (closed) session.end("EDGE_SHUTTING_DOWN");
      else sessions.add(session);
    },
    notifyChanged(): void {
      pushes.request();
    },
    nodes(): NodeView[] {
      return registry.views();
    },
    viewSettled(): boolean {
      if (settled) return true;
      const views = registry.views();
      // An empty list is what a fresh replica on an empty store sees, not a fact about the fleet.
      settled =
        now() - startedAt >= settleMs ||
        (views.length > 0 && views.every((view) => view.status !== "disconnected"));
      return settled;
    },
    liveScripts(): ReadonlySet<string> | null {
      return latest?.scriptNames() ?? null;
    },
    revoke(nodeId: string): number {
      let ended = 0;
      for (const session of [...sessions]) {
        if (session.node?.id !== nodeId) continue;
        session.end("EDGE_NODE_REVOKED");
        ended++;
      }
      return ended;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      if (recheckTimer) clearInterval(recheckTimer);
      await recheck?.close();
      await watch.close();
      await pushes.close();
      for (const session of [...sessions]) session.end("EDGE_SHUTTING_DOWN");
      await share.close();
      // Best effort: tell the other replicas at once that these streams ended.
      await store.saveNodeStates(registry.takeStatesToShare(now(), heartbeatIntervalMs)).catch(() => {});
    },
  };
}
