import { cachedSubrequest, cfCacheOptions } from "./fetch/cached-subrequest.js";
import type { FetchPolicy } from "./fetch/fetch-options.js";
import { performSubrequest, SubrequestError } from "./fetch/subrequest.js";
import { type CacheAccess, type CacheReply, MAX_CACHE_OPERATIONS, runCacheOp } from "./host/cache.js";
import { closeCompressionStreams } from "./host/compression.js";
import { CryptoHost } from "./host/crypto-subtle.js";
import { type KvAccess, type KvReply, MAX_KV_OPERATIONS, runKvOp } from "./host/kv.js";
import { type HostOpContext, hostError } from "./host/op.js";
import { HOST_OPS } from "./host/table.js";
import { type HostBytes, UNBOUNDED_HOST_BYTES } from "./host-memory.js";
import type { LogCollector } from "./log-collector.js";

/** Calls into the isolate's runtime that the bridge needs (complete a fetch, fire a timer). */
export interface IsolateCalls {
  complete(id: number, ok: boolean, value: unknown): void;
  fire(id: number): void;
  /** Host time spent on the script's behalf (hashing), charged to its CPU budget. */
  charge(ms: number): void;
  /** The script's memory limit in MiB (WebAssembly memories get the same budget). */
  readonly memoryMb: number;
  /** The script asked for WebAssembly memory past its limit: end the request (EDGE_MEMORY_LIMIT). */
  overMemoryLimit(): void;
}

const MAX_TIMERS = 10_000;

/** Runs the synchronous operation `op` (./host/table.ts) with arguments from the isolate. */
export function callHostOp(context: HostOpContext, op: unknown, a: unknown, b: unknown, c: unknown): unknown {
  const operation = typeof op === "string" ? HOST_OPS.get(op) : undefined;
  try {
    if (operation === undefined) throw new TypeError("Unknown host operation");
    return operation(context, a, b, c);
  } catch (err) {
    // Name and message only: a host stack would show the host's paths.
    if (err instanceof Error) throw hostError(err.message, err.name);
    throw hostError("Host operation failed");
  }
}

/**
 * The host side of one request's runtime: the functions behind `crypto`,
 * timers and `fetch()`. Every argument comes from the script's isolate, so
 * each is checked; nothing but copied plain data goes back. close() drops
 * the request's timers and aborts its subrequests.
 */
export class HostBridge {
  readonly #logs: LogCollector;
  readonly #fetch: FetchPolicy;
  readonly #calls: IsolateCalls;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #subrequests = new Map<number, AbortController>();
  readonly #budget = { used: 0 };
  /** Messages of limit failures handed to the script, to recognise them if uncaught. */
  readonly limitFailures = new Map<
    string,
    "EDGE_SUBREQUEST_LIMIT" | "EDGE_RESPONSE_TOO_LARGE" | "EDGE_MEMORY_LIMIT"
  >();
  /** Subrequest bodies the host holds for this request until they are handed in. */
  memory: HostBytes = UNBOUNDED_HOST_BYTES;
  readonly #opContext: HostOpContext;
  readonly #crypto: CryptoHost;
  #closed = false;
  #kv: KvAccess | null = null;
  #kvOps = 0;
  #cache: CacheAccess | null = null;
  #cacheOps = 0;
  #cacheQueue: Promise<void> = Promise.resolve();
  /** Edge runs the request had been through before this one (see fetch/subrequest.ts HOP_HEADER). */
  hops = 0;

  constructor(logs: LogCollector, fetch: FetchPolicy, calls: IsolateCalls) {
    this.#logs = logs;
    this.#fetch = fetch;
    this.#calls = calls;
    this.#opContext = {
      charge: (ms) => calls.charge(ms),
      memoryMb: calls.memoryMb,
      overMemoryLimit: () => calls.overMemoryLimit(),
    };
    this.#crypto = new CryptoHost({ charge: (ms) => calls.charge(ms), complete: calls.complete });
  }

  /** Gives the request's script its KV bindings (before it runs). */
  bindKv(access: KvAccess | null): void {
    this.#kv = access;
  }

  /** Gives the request's script the Cache API (before it runs); null: its operations fail. */
  bindCache(access: CacheAccess | null): void {
    this.#cache = access;
  }

  get subrequests(): number {
    return this.#budget.used;
  }

  log(level: unknown, message: unknown, time?: number): boolean {
    return this.#logs.add(level, message, time);
  }

  /** Synchronous operations (./host/table.ts): the isolate waits for the result. */
  call(op: unknown, a: unknown, b: unknown, c: unknown): unknown {
    return callHostOp(this.#opContext, op, a, b, c);
  }

  /** Fire-and-forget operations; results come back through IsolateCalls. */
  post(op: unknown, a: unknown, b: unknown): void {
    if (this.#closed) return;
    switch (op) {
      case "timer":
        this.#setTimer(a, b);
        return;
      case "clearTimer":
        this.#clearTimer(a);
        return;
      case "fetch":
        this.#startFetch(a, b);
        return;
      case "crypto":
        this.#crypto.start(a, b);
        return;
      case "kv":
        this.#startKv(a, b);
        return;
      case "cache":
        this.#startCache(a, b);
        return;
      case "fetchAbort":
        this.#subrequests.get(Number(a))?.abort();
        return;
      default:
        return;
    }
  }

  close(): void {
    this.#closed = true;
    this.#crypto.close();
    this.memory.releaseAll();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#subrequests.values()) controller.abort();
    this.#subrequests.clear();
    closeCompressionStreams(this.#opContext);
  }

  /** A KV operation (./host/kv.ts); its reply, success or failure, completes the isolate's promise. */
  #startKv(id: unknown, request: unknown): void {
    const key = Number(id);
    if (!Number.isSafeInteger(key)) return;
    // Cloudflare's per-invocation limit on KV operations (a bulk get is one): each costs the host a read or a write.
    this.#kvOps += 1;
    const reply: Promise<KvReply> =
      this.#kvOps > MAX_KV_OPERATIONS
        ? Promise.resolve({
            error: { name: "Error", message: "Too many API requests by single worker invocation." },
          })
        : runKvOp(this.#opContext, this.#kv, request);
    void reply.then((reply) => {
      if (!this.#closed) this.#calls.complete(key, true, reply);
    });
  }

  /**
   * A Cache API operation (./host/cache.ts); its reply completes the isolate's promise. A request's
   * operations run one after another, and the bodies the host holds for them (a put's, a match's
   * until handed in) count against the request's host memory, so a script cannot make the host
   * load many large entries at once.
   */
  #startCache(id: unknown, request: unknown): void {
    const key = Number(id);
    if (!Number.isSafeInteger(key)) return;
    this.#cacheOps += 1;
    const body = (request as { body?: unknown } | null)?.body;
    const putBytes = body instanceof Uint8Array ? body.byteLength : 0;
    const refused = this.#cacheOps > MAX_CACHE_OPERATIONS ? "ops" : this.memory.take(putBytes);
    if (refused !== null) {
      const message =
        refused === "ops"
          ? "Too many cache operations in one request."
          : "The response does not fit in the host's memory for this request.";
      queueMicrotask(() => {
        if (!this.#closed) this.#calls.complete(key, true, { error: { name: "Error", message } });
      });
      return;
    }
    const run = this.#cacheQueue.then(async () => {
      const reply: CacheReply = await runCacheOp(this.#opContext, this.#cache, request);
      this.memory.release(putBytes);
      const matched = "ok" in reply ? (reply.ok as { body?: unknown } | null)?.body : undefined;
      const matchBytes = matched instanceof Uint8Array ? matched.byteLength : 0;
      if (this.memory.take(matchBytes) !== null) {
        const message = "The cached response does not fit in the host's memory for this request.";
        if (!this.#closed) this.#calls.complete(key, true, { error: { name: "Error", message } });
        return;
      }
      if (!this.#closed) this.#calls.complete(key, true, reply);
      // Copied into the isolate on delivery, where its heap limit counts it.
      this.memory.release(matchBytes);
    });
    this.#cacheQueue = run.catch(() => {});
  }

  #setTimer(id: unknown, delay: unknown): void {
    const key = Number(id);
    const ms = Number(delay);
    if (!Number.isSafeInteger(key) || !Number.isFinite(ms) || ms < 0) return;
    if (!this.#timers.has(key) && this.#timers.size >= MAX_TIMERS) return;
    clearTimeout(this.#timers.get(key));
    // The run's wall-clock limit ends the request (and these timers) before long delays elapse.
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (!this.#closed) this.#calls.fire(key);
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    this.#timers.set(key, timer);
  }

  #clearTimer(id: unknown): void {
    const key = Number(id);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  #startFetch(id: unknown, request: unknown): void {
    const key = Number(id);
    if (!Number.isSafeInteger(key) || this.#subrequests.has(key)) return;
    const controller = new AbortController();
    this.#subrequests.set(key, controller);
    const perform = () =>
      performSubrequest(request, this.#fetch, this.#budget, controller.signal, this.hops, this.memory);
    const cf = this.#cache === null ? null : cfCacheOptions(request);
    const cache = this.#cache;
    const started =
      cf === null || cache === null
        ? perform()
        : cachedSubrequest(
            request as { url?: unknown },
            cf,
            cache,
            this.#budget,
            this.#fetch.maxSubrequests,
            this.memory,
            perform,
          );
    started.then(
      (result) => {
        this.#subrequests.delete(key);
        if (!this.#closed) this.#calls.complete(key, true, result);
        // Handed to the isolate (copied in on delivery), where its heap limit counts it.
        this.memory.release(result.body.byteLength);
      },
      (err: unknown) => {
        this.#subrequests.delete(key);
        const failure =
          err instanceof SubrequestError ? err : new SubrequestError("The subrequest failed in the host");
        if (failure.limit !== null)
          this.limitFailures.set(`${failure.name}: ${failure.message}`, failure.limit);
        if (!this.#closed) this.#calls.complete(key, false, { name: failure.name, message: failure.message });
      },
    );
  }
}

export { hostError };
