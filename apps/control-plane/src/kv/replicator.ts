import type { KvSubscribe, KvWrite, NodeMessage } from "@edge/protocol";
import type { Logger } from "pino";
import { isEdgeError } from "../errors.js";
import type { NodeLink, NodeTelemetryHooks } from "../push/telemetry-hooks.js";
import type { KvNamespace } from "../store/kv-types.js";
import type { Store } from "../store/types.js";
import type { KvChangeListener, KvNodeLag } from "./types.js";
import { fromWireMutations, toWireEntry } from "./wire.js";

export interface KvReplicatorOptions {
  store: Store;
  logger: Logger;
  /** How often the store is checked for writes made through other replicas (default 250 ms). */
  pollMs?: number;
  /** Most value bytes in one KvSync message (default 4 MiB; a value larger than that travels alone). */
  maxSyncBytes?: number;
  /** How often expired values are purged from the store (default 60 s). */
  purgeEveryMs?: number;
  now?: () => number;
}

export interface KvReplicator extends KvChangeListener {
  /** Plugs into the push hub's node streams next to telemetry (`combineHooks`). */
  readonly hooks: NodeTelemetryHooks;
  nodeLag(nodeId: string): KvNodeLag | null;
  start(): void;
  close(): Promise<void>;
}

/** One node stream that subscribed to KV. */
interface Subscriber {
  link: NodeLink;
  /** Namespace id -> the version sent (the node holds it once it applied what is in flight). */
  sent: Map<string, number>;
  /** Namespace id -> the version the node last confirmed holding. */
  confirmed: Map<string, number>;
  behindSince: number | null;
  running: boolean;
  again: boolean;
}

/**
 * Replicates Workers KV to edge nodes over their existing stream. A node
 * subscribes with the version it holds of each namespace; it is then sent,
 * per namespace, only the keys written after that version (tombstones
 * included), in messages of bounded size, and removals of namespaces that
 * are gone. Writes through this replica's API or from its nodes are sent at
 * once; writes through other replicas are found by polling the namespaces'
 * versions. A node's own writes (`KvWrite`) are acknowledged only once the
 * store has them. Expired values are purged from the store periodically
 * (nodes purge their own replicas).
 */
export function createKvReplicator(options: KvReplicatorOptions): KvReplicator {
  const { store } = options;
  const log = options.logger.child({ component: "kv-replication" });
  const now = options.now ?? Date.now;
  const maxSyncBytes = options.maxSyncBytes ?? 4 * 1024 * 1024;
  const subscribers = new Map<string, Subscriber>();
  let versions = new Map<string, number>();
  let pollTimer: NodeJS.Timeout | null = null;
  let purgeTimer: NodeJS.Timeout | null = null;
  let scheduled = false;
  let closed = false;

  const syncAll = (): void => {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      for (const subscriber of subscribers.values()) void sync(subscriber);
    });
  };

  async function sync(sub: Subscriber): Promise<void> {
    if (sub.running) {
      sub.again = true;
      return;
    }
    sub.running = true;
    try {
      do {
        sub.again = false;
        await syncOnce(sub);
      } while (sub.again && !closed);
    } catch (err) {
      log.warn({ err, nodeId: sub.link.id }, "KV sync to a node failed; retried on the next change");
    } finally {
      sub.running = false;
    }
  }

  async function syncOnce(sub: Subscriber): Promise<void> {
    const namespaces = await store.listKvNamespaces();
    remember(namespaces);
    const live = new Set(namespaces.map((ns) => ns.id));
    const removed = [...sub.sent.keys()].filter((id) => !live.has(id));
    if (removed.length > 0) {
      for (const id of removed) sub.sent.delete(id);
      if (!sub.link.send({ $case: "kvSync", value: { namespaces: [], removedNamespaces: removed } })) return;
    }
    for (const ns of namespaces) {
      const held = sub.sent.get(ns.id);
      if (held !== undefined && held >= ns.version) continue;
      let from = held ?? 0;
      for (;;) {
        const { changes, more } = await store.kvChangesSince(ns.id, from, maxSyncBytes);
        const last = changes.at(-1)?.version ?? from;
        const version = more ? last : Math.max(last, ns.version, from);
        const delta = { namespaceId: ns.id, version, entries: changes.map(toWireEntry) };
        if (!sub.link.send({ $case: "kvSync", value: { namespaces: [delta], removedNamespaces: [] } }))
          return;
        sub.sent.set(ns.id, version);
        from = version;
        if (!more) break;
      }
    }
  }

  function remember(namespaces: KvNamespace[]): void {
    versions = new Map(namespaces.map((ns) => [ns.id, ns.version]));
    for (const sub of subscribers.values()) updateLag(sub);
  }

  function behind(sub: Subscriber): number {
    let total = 0;
    for (const [id, version] of versions) total += Math.max(0, version - (sub.confirmed.get(id) ?? 0));
    return total;
  }

  function updateLag(sub: Subscriber): void {
    if (behind(sub) === 0) sub.behindSince = null;
    else sub.behindSince ??= now();
  }

  async function poll(): Promise<void> {
    try {
      const namespaces = await store.listKvNamespaces();
      const moved =
        namespaces.length !== versions.size || namespaces.some((ns) => versions.get(ns.id) !== ns.version);
      remember(namespaces);
      if (moved) syncAll();
    } catch (err) {
      log.debug({ err }, "KV poll failed");
    }
  }

  function onSubscribe(sub: Subscriber, message: KvSubscribe): void {
    const first = sub.confirmed.size === 0 && sub.sent.size === 0;
    for (const [id, raw] of Object.entries(message.versions)) {
      const version = Number(raw);
      sub.confirmed.set(id, version);
      if (first) sub.sent.set(id, version);
    }
    updateLag(sub);
    if (first) void sync(sub);
  }

  async function onWrite(link: NodeLink, message: KvWrite): Promise<void> {
    const reply = (errorCode: string, errorMessage: string, written: number[] = []) =>
      link.send({
        $case: "kvWriteResult",
        value: { requestId: message.requestId, errorCode, errorMessage, versions: written },
      });
    const mutations = fromWireMutations(message.mutations);
    if (typeof mutations === "string") {
      reply("EDGE_KV_INVALID_WRITE", mutations);
      return;
    }
    try {
      const written = await store.writeKv(message.namespaceId, mutations);
      if (written === null) reply("EDGE_KV_NAMESPACE_NOT_FOUND", "The KV namespace no longer exists");
      else {
        reply("", "", written);
        syncAll();
      }
    } catch (err) {
      log.warn({ err, nodeId: link.id }, "KV write from a node failed");
      reply("EDGE_STORE_UNAVAILABLE", isEdgeError(err) ? err.message : "The store is unavailable");
    }
  }

  const hooks: NodeTelemetryHooks = {
    closed: (node) => {
      if (subscribers.get(node.id)?.link === node) subscribers.delete(node.id);
    },
    message: (node, msg: NonNullable<NodeMessage["msg"]>) => {
      if (msg.$case === "kvSubscribe") {
        let sub = subscribers.get(node.id);
        if (sub?.link !== node) {
          sub = {
            link: node,
            sent: new Map(),
            confirmed: new Map(),
            behindSince: null,
            running: false,
            again: false,
          };
          subscribers.set(node.id, sub);
        }
        onSubscribe(sub, msg.value);
      } else if (msg.$case === "kvWrite") {
        void onWrite(node, msg.value);
      }
    },
  };

  return {
    hooks,
    changed: syncAll,
    nodeLag(nodeId) {
      const sub = subscribers.get(nodeId);
      if (sub === undefined) return null;
      return { behind: behind(sub), lagMs: sub.behindSince === null ? 0 : now() - sub.behindSince };
    },
    start() {
      pollTimer = setInterval(() => void poll(), options.pollMs ?? 250);
      pollTimer.unref();
      purgeTimer = setInterval(() => {
        store.purgeExpiredKv(now()).catch((err: unknown) => log.debug({ err }, "KV purge failed"));
      }, options.purgeEveryMs ?? 60_000);
      purgeTimer.unref();
    },
    async close() {
      closed = true;
      if (pollTimer) clearInterval(pollTimer);
      if (purgeTimer) clearInterval(purgeTimer);
      subscribers.clear();
    },
  };
}

/** Both sets of hooks see every node stream event (telemetry and KV replication share the streams). */
export function combineHooks(a: NodeTelemetryHooks, b: NodeTelemetryHooks): NodeTelemetryHooks {
  return {
    opened: (node) => {
      a.opened?.(node);
      b.opened?.(node);
    },
    closed: (node) => {
      a.closed?.(node);
      b.closed?.(node);
    },
    metrics: (node, report) => {
      a.metrics?.(node, report);
      b.metrics?.(node, report);
    },
    message: (node, msg) => {
      a.message?.(node, msg);
      b.message?.(node, msg);
    },
  };
}
