import { Worker } from "node:worker_threads";
import { type Logger, pino } from "pino";
import { admissionOf } from "../admission.js";
import type { RunError } from "../errors.js";
import type { CacheProvider } from "../host/cache.js";
import type { KvProvider } from "../host/kv.js";
import { DEFAULT_MAX_HOST_BYTES } from "../host-memory.js";
import { DEFAULT_MAX_IDLE_BYTES } from "../isolate-pool.js";
import type { IsolateRunner, IsolateRunnerOptions, PreparedScript } from "../runner.js";
import type {
  HostRequest,
  RunOptions,
  RunResult,
  StreamingRunResult,
  WaitUntilResult,
  WorkerScript,
} from "../types.js";
import { answerCacheCall } from "./cache-proxy.js";
import { answerKvCall } from "./kv-proxy.js";
import type { FromWorker, ToWorker, WorkerOptions } from "./protocol.js";
import { fromWire } from "./wire-error.js";

/**
 * Tests import this file from src/ (TypeScript); worker threads need the
 * built JavaScript, so from src/ the worker comes from dist/ (build first).
 */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/threads/runner-worker.js", import.meta.url)
  : new URL("./runner-worker.js", import.meta.url);

interface Call {
  resolve(message: FromWorker): void;
  reject(err: Error): void;
}

/** How long a thread may take to end by itself once asked to stop. */
const THREAD_STOP_GRACE_MS = 5_000;

/** One worker thread and the calls it has under way. */
class RunnerThread {
  readonly worker: Worker;
  readonly #calls = new Map<number, Call>();
  readonly #waitUntils = new Map<number, (result: WaitUntilResult) => void>();
  readonly ready: Promise<void>;
  /** Resolves once the thread has ended. */
  readonly exited: Promise<void>;
  inFlight = 0;
  /** When this thread was last handed a request (ties go to the one idle longest). */
  lastPicked = 0;
  #failure: Error | null = null;

  constructor(
    options: WorkerOptions,
    logger: Logger,
    index: number,
    kv: KvProvider | undefined,
    cache: CacheProvider | undefined,
  ) {
    // Process-wide flags such as --no-node-snapshot already apply to worker threads.
    this.worker = new Worker(WORKER_URL, { workerData: options });
    let markReady!: () => void;
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    const log = logger.child({ thread: index });
    this.worker.on("message", (message: FromWorker) => {
      switch (message.t) {
        case "ready":
          markReady();
          return;
        case "log":
          forwardLog(log, message.line);
          return;
        case "kv": {
          const { id } = message;
          void answerKvCall(kv, message.call).then((reply) => this.post({ t: "kvReply", id, reply }));
          return;
        }
        case "cache": {
          const { id } = message;
          void answerCacheCall(cache, message.call).then((reply) =>
            this.post({ t: "cacheReply", id, reply }),
          );
          return;
        }
        case "waitUntil": {
          const done = this.#waitUntils.get(message.id);
          this.#waitUntils.delete(message.id);
          const { error, ...rest } = message.result;
          done?.({ ...rest, error: error === null ? null : (fromWire(error) as RunError) });
          this.inFlight -= 1;
          return;
        }
        default: {
          const call = this.#calls.get(message.id);
          this.#calls.delete(message.id);
          call?.resolve(message);
        }
      }
    });
    const fail = (err: Error): void => {
      this.#failure = err;
      markReady();
      for (const call of this.#calls.values()) call.reject(err);
      this.#calls.clear();
      for (const done of this.#waitUntils.values()) done({ cpuMs: 0, wallMs: 0, logs: [], error: null });
      this.#waitUntils.clear();
    };
    this.worker.on("error", (err) => {
      log.error({ err }, "runner worker thread failed");
      fail(err);
    });
    this.exited = new Promise((resolve) => {
      this.worker.on("exit", () => {
        fail(new Error("The isolate runner has been disposed"));
        resolve();
      });
    });
  }

  /**
   * Asks the thread to dispose its isolates and end by itself; terminates it
   * only if it has not ended within `graceMs` (terminating a thread while
   * isolated-vm still holds an isolate it is building can hang or abort the
   * whole process, so that is the last resort).
   */
  async stop(graceMs: number): Promise<void> {
    this.post({ t: "dispose" });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), graceMs);
    });
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === "late") await this.worker.terminate();
  }

  /** Sends a message that is answered by one reply with the same id. */
  request(message: ToWorker & { id: number }): Promise<FromWorker> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#calls.set(message.id, { resolve, reject });
      this.worker.postMessage(message);
    });
  }

  post(message: ToWorker): void {
    if (this.#failure === null) this.worker.postMessage(message);
  }

  /** The waitUntil report that follows a successful run. */
  waitUntil(id: number): Promise<WaitUntilResult> {
    return new Promise((resolve) => this.#waitUntils.set(id, resolve));
  }
}

function forwardLog(log: Logger, line: string): void {
  try {
    const {
      level,
      msg,
      time: _time,
      pid: _pid,
      hostname: _hostname,
      ...fields
    } = JSON.parse(line) as Record<string, unknown>;
    const name = log.levels.labels[Number(level)] ?? "info";
    (log[name as "info"] as (obj: object, msg?: string) => void).call(
      log,
      fields,
      typeof msg === "string" ? msg : undefined,
    );
  } catch {
    log.warn({ line }, "unreadable log line from a runner worker thread");
  }
}

/**
 * An IsolateRunner spreading requests over worker threads, each running its
 * own in-thread runner (isolate pool, runtime code cache, prepared scripts).
 * Every request still gets a fresh isolate; the threads only let isolate
 * creation and disposal, which block the thread doing them, use every core.
 */
export function createThreadedRunner(options: IsolateRunnerOptions, threads: number): IsolateRunner {
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "isolate-host" });
  const workerOptions: WorkerOptions = {
    maxLimits: options.maxLimits,
    warmIsolates: options.warmIsolates,
    // Each thread keeps its share of the memory budget.
    warmIsolatesMaxBytes: Math.floor((options.warmIsolatesMaxBytes ?? DEFAULT_MAX_IDLE_BYTES) / threads),
    runtimeSnapshot: options.runtimeSnapshot,
    fetch: options.fetch,
    maxResponseBytes: options.maxResponseBytes,
    // Each thread admits its share of the node's slots.
    admission: {
      concurrency: Math.max(1, Math.ceil(admissionOf(options).concurrency / threads)),
      maxQueue: Math.ceil(admissionOf(options).maxQueue / threads),
      perScript: Math.max(1, Math.ceil(admissionOf(options).perScript / threads)),
      maxInFlightPerScript: Math.max(1, Math.ceil(admissionOf(options).maxInFlightPerScript / threads)),
    },
    startupCpuMs: options.startupCpuMs,
    maxHostBytes: Math.floor((options.maxHostBytes ?? DEFAULT_MAX_HOST_BYTES) / threads),
    logLevel: logger.level,
    kv: options.kv !== undefined,
    cache: options.cache !== undefined,
  };
  const pool = Array.from(
    { length: threads },
    (_, i) => new RunnerThread(workerOptions, logger, i, options.kv, options.cache),
  );
  const scriptIds = new WeakMap<PreparedScript, number[]>();
  const forget = new FinalizationRegistry<number[]>((ids) => {
    for (const [i, scriptId] of ids.entries()) pool[i]?.post({ t: "forget", scriptId });
  });
  let nextId = 1;
  let picks = 0;
  let disposed = false;

  function assertOpen(): void {
    if (disposed) throw new Error("The isolate runner has been disposed");
  }

  /**
   * The thread with the fewest requests in flight; among equals, the one handed a request
   * longest ago. A thread that just answered is still disposing that isolate and building
   * the next ones, so back-to-back requests alternate instead of queueing behind that work.
   */
  function pick(): { thread: RunnerThread; index: number } {
    let index = 0;
    for (let i = 1; i < pool.length; i++) {
      const candidate = pool[i]!;
      const best = pool[index]!;
      if (
        candidate.inFlight < best.inFlight ||
        (candidate.inFlight === best.inFlight && candidate.lastPicked < best.lastPicked)
      )
        index = i;
    }
    const thread = pool[index]!;
    thread.lastPicked = ++picks;
    return { thread, index };
  }

  function failure(message: FromWorker): Error {
    if (message.t === "failed" || message.t === "chunkFailed") return fromWire(message.error);
    return new Error(`Unexpected reply from a runner worker thread: ${message.t}`);
  }

  async function start(
    prepared: PreparedScript,
    request: HostRequest,
    streaming: boolean,
    signal: AbortSignal | undefined,
  ) {
    assertOpen();
    const ids = scriptIds.get(prepared);
    if (ids === undefined)
      throw new TypeError("run() needs a PreparedScript returned by this runner's prepare()");
    const { thread, index } = pick();
    const id = nextId++;
    thread.inFlight += 1;
    const onAbort = (): void => thread.post({ t: "abort", id });
    const pending = thread.request({ t: "run", id, scriptId: ids[index]!, request, streaming });
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    const reply = await pending
      .catch((err: Error) => {
        thread.inFlight -= 1;
        throw err;
      })
      .finally(() => signal?.removeEventListener("abort", onAbort));
    if (reply.t !== "head") {
      thread.inFlight -= 1;
      throw failure(reply);
    }
    return { thread, id, head: reply, waitUntil: thread.waitUntil(id) };
  }

  return {
    async prepare(script: WorkerScript): Promise<PreparedScript> {
      assertOpen();
      await Promise.all(pool.map((thread) => thread.ready));
      const replies = await Promise.all(
        pool.map((thread) => thread.request({ t: "prepare", id: nextId++, script })),
      );
      const bad = replies.find((reply) => reply.t !== "prepared");
      if (bad !== undefined) throw failure(bad);
      const first = replies[0] as Extract<FromWorker, { t: "prepared" }>;
      const prepared: PreparedScript = Object.freeze({
        name: script.name,
        version: script.version,
        limits: first.limits,
      });
      const ids = replies.map((reply) => (reply as Extract<FromWorker, { t: "prepared" }>).scriptId);
      scriptIds.set(prepared, ids);
      forget.register(prepared, ids);
      return prepared;
    },

    async run(prepared, request, options?: RunOptions): Promise<RunResult> {
      const { head, waitUntil } = await start(prepared, request, false, options?.signal);
      if (head.t !== "head" || head.body === null) throw new Error("A runner worker thread sent no body");
      return {
        response: { status: head.status, headers: head.headers, body: head.body },
        cpuMs: head.cpuMs,
        wallMs: head.wallMs,
        startMs: head.startMs,
        heapBytes: head.heapBytes,
        logs: head.logs,
        waitUntil,
      };
    },

    async runScheduled(prepared, event) {
      assertOpen();
      const ids = scriptIds.get(prepared);
      if (ids === undefined)
        throw new TypeError("runScheduled() needs a PreparedScript returned by this runner's prepare()");
      const { thread, index } = pick();
      thread.inFlight += 1;
      try {
        const reply = await thread.request({ t: "scheduled", id: nextId++, scriptId: ids[index]!, event });
        if (reply.t !== "scheduledDone") throw failure(reply);
        return reply.result;
      } finally {
        thread.inFlight -= 1;
      }
    },

    async runStreaming(prepared, request, options?: RunOptions): Promise<StreamingRunResult> {
      const { thread, id, head, waitUntil } = await start(prepared, request, true, options?.signal);
      if (head.t !== "head") throw new Error("A runner worker thread sent no response head");
      // A body known up front came whole with the head (see runner-worker.ts).
      let inline = head.body;
      let finished = false;
      const body: AsyncIterableIterator<Uint8Array> = {
        async next() {
          if (finished) return { done: true, value: undefined };
          if (inline !== null) {
            const whole = inline;
            inline = null;
            finished = true;
            return whole.byteLength === 0 ? { done: true, value: undefined } : { done: false, value: whole };
          }
          const reply = await thread.request({ t: "pull", id });
          if (reply.t === "chunk" && reply.chunk !== null) return { done: false, value: reply.chunk };
          finished = true;
          if (reply.t === "chunk") return { done: true, value: undefined };
          throw failure(reply);
        },
        async return() {
          if (!finished) thread.post({ t: "cancel", id });
          finished = true;
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return {
        response: { status: head.status, headers: head.headers, length: head.length ?? null, body },
        cpuMs: head.cpuMs,
        wallMs: head.wallMs,
        startMs: head.startMs,
        heapBytes: head.heapBytes,
        logs: head.logs,
        waitUntil,
      };
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(pool.map((thread) => thread.stop(THREAD_STOP_GRACE_MS)));
    },
  };
}
