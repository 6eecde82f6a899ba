import type { KvCaller, KvListPage, KvProvider, KvValue, KvWriteMutation } from "@edge/isolate-host";
import type { KvSync, KvWriteResult, NodeMessage } from "@edge/protocol";
import type { Logger } from "pino";
import type { KvReplica } from "./replica.js";

/** What KV operation counters count (per script version and namespace). */
export type KvOp = "reads" | "misses" | "lists" | "writes";

export type KvOpRecorder = (caller: KvCaller, namespaceId: string, op: KvOp, count: number) => void;

export interface KvNodeOptions {
  /** Counts operations (metrics); default none. */
  record?: KvOpRecorder;
  /** A script's write waits this long for the control plane (through reconnects) before it fails. */
  writeTimeoutMs?: number;
  /** Expired values are purged from the replica this often. */
  purgeEveryMs?: number;
}

type Send = (msg: NonNullable<NodeMessage["msg"]>) => boolean;

interface PendingWrite {
  namespaceId: string;
  mutations: KvWriteMutation[];
  sent: boolean;
  caller: KvCaller;
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Acknowledgements of applied syncs (what `GET /v1/nodes` shows as lag) go out at most this often. */
const CONFIRM_EVERY_MS = 100;

/**
 * Workers KV on an edge node: the `KvProvider` the isolate runner serves
 * scripts' bindings with, and the node's side of replication on the agent's
 * stream. Reads come from the local replica; writes go to the control plane
 * (`KvWrite`) and resolve once it answers that they are durable, when they
 * are applied to the replica too (a PoP reads its own writes at once). A
 * write waiting for an answer when the stream drops is sent again on the next
 * stream (a write is idempotent in effect), within `writeTimeoutMs`.
 */
export class KvNode implements KvProvider {
  readonly #replica: KvReplica;
  readonly #log: Logger;
  readonly #record: KvOpRecorder;
  readonly #writeTimeoutMs: number;
  readonly #pending = new Map<number, PendingWrite>();
  #send: Send | null = null;
  #nextId = 1;
  #confirmTimer: NodeJS.Timeout | null = null;
  readonly #purgeTimer: NodeJS.Timeout;

  constructor(replica: KvReplica, logger: Logger, options: KvNodeOptions = {}) {
    this.#replica = replica;
    this.#record = options.record ?? (() => {});
    this.#log = logger.child({ component: "kv" });
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.#purgeTimer = setInterval(() => {
      try {
        this.#replica.purgeExpired();
      } catch (err) {
        this.#log.warn({ err }, "purging expired KV values failed");
      }
    }, options.purgeEveryMs ?? 60_000);
    this.#purgeTimer.unref();
  }

  // The isolate runner's side (KvProvider).

  get(namespaceId: string, key: string, caller: KvCaller): KvValue | null {
    const found = this.#replica.get(namespaceId, key);
    this.#record(caller, namespaceId, "reads", 1);
    if (found === null) this.#record(caller, namespaceId, "misses", 1);
    return found;
  }

  list(
    namespaceId: string,
    options: { prefix: string; limit: number; cursor: string | null },
    caller: KvCaller,
  ): KvListPage {
    this.#record(caller, namespaceId, "lists", 1);
    return this.#replica.list(namespaceId, options);
  }

  write(namespaceId: string, mutations: KvWriteMutation[], caller: KvCaller): Promise<void> {
    const id = this.#nextId++;
    const method = mutations[0]?.delete === true ? "DELETE" : "PUT";
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`KV ${method} failed: 503 The control plane did not confirm the write in time`));
      }, this.#writeTimeoutMs);
      this.#pending.set(id, { namespaceId, mutations, sent: false, caller, resolve, reject, timer });
      this.#flush();
    });
  }

  // The agent's side.

  /** A stream to the control plane is open (after its welcome): subscribe, and send waiting writes. */
  attach(send: Send): void {
    this.#send = send;
    send({ $case: "kvSubscribe", value: { versions: this.#replica.versions() } });
    for (const pending of this.#pending.values()) pending.sent = false;
    this.#flush();
  }

  /** That stream is over: writes waiting for an answer are sent again on the next one. */
  detach(): void {
    this.#send = null;
  }

  onSync(sync: KvSync): void {
    try {
      this.#replica.applySync(sync);
    } catch (err) {
      this.#log.error({ err }, "applying a KV sync failed");
      return;
    }
    this.#confirmSoon();
  }

  onWriteResult(result: KvWriteResult): void {
    const id = Number(result.requestId);
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    const method = pending.mutations[0]?.delete === true ? "DELETE" : "PUT";
    if (result.errorCode !== "") {
      const status =
        result.errorCode === "EDGE_KV_NAMESPACE_NOT_FOUND"
          ? 404
          : result.errorCode === "EDGE_KV_INVALID_WRITE"
            ? 400
            : 503;
      pending.reject(new Error(`KV ${method} failed: ${status} ${result.errorMessage}`));
      return;
    }
    const versions = result.versions.map(Number);
    try {
      this.#replica.applyOwnWrite(pending.namespaceId, pending.mutations, versions);
    } catch (err) {
      this.#log.warn({ err }, "applying this node's own KV write locally failed; the sync brings it");
    }
    this.#record(pending.caller, pending.namespaceId, "writes", pending.mutations.length);
    pending.resolve();
  }

  close(): void {
    clearInterval(this.#purgeTimer);
    if (this.#confirmTimer) clearTimeout(this.#confirmTimer);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error("KV write failed: 503 The node is shutting down"));
    }
    this.#pending.clear();
    this.#replica.close();
  }

  #flush(): void {
    const send = this.#send;
    if (send === null) return;
    for (const [id, pending] of this.#pending) {
      if (pending.sent) continue;
      pending.sent = send({
        $case: "kvWrite",
        value: {
          requestId: id,
          namespaceId: pending.namespaceId,
          mutations: pending.mutations.map((m) =>
            m.delete === true
              ? { key: m.key, delete: true, value: Buffer.alloc(0), expiration: 0 }
              : {
                  key: m.key,
                  delete: false,
                  value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
                  ...(m.metadata !== null ? { metadata: m.metadata } : {}),
                  expiration: m.expiration ?? 0,
                },
          ),
        },
      });
    }
  }

  #confirmSoon(): void {
    if (this.#confirmTimer !== null) return;
    this.#confirmTimer = setTimeout(() => {
      this.#confirmTimer = null;
      this.#send?.({ $case: "kvSubscribe", value: { versions: this.#replica.versions() } });
    }, CONFIRM_EVERY_MS);
    this.#confirmTimer.unref();
  }
}
