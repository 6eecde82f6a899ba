import type ivm from "isolated-vm";
import { type Logger, pino } from "pino";
import { Admission, type AdmissionOptions, admissionOf } from "./admission.js";
import { isRunError, RunError } from "./errors.js";
import { type FetchOptions, type FetchPolicy, fetchPolicy } from "./fetch/fetch-options.js";
import type { CacheProvider } from "./host/cache.js";
import type { KvProvider } from "./host/kv.js";
import { DEFAULT_MAX_HOST_BYTES, HostMemory } from "./host-memory.js";
import { DEFAULT_MAX_IDLE_BYTES } from "./isolate-pool.js";
import { IsolateSession } from "./isolate-session.js";
import { type CompiledScript, IsolateSupply } from "./isolate-supply.js";
import { clampLimits, DEFAULT_MAX_LIMITS } from "./limits.js";
import { LogCollector } from "./log-collector.js";
import type { ModuleCaches } from "./modules/link.js";
import { moduleSetOf } from "./modules/module-set.js";
import { StackMapper } from "./modules/stack-map.js";
import { responseFromOutcome } from "./outcome.js";
import { type BodyReader, readWholeBody, streamBody } from "./response-body.js";
import { RunSlot, ScriptInFlight } from "./run-slot.js";
import { failedScheduled, scheduledFromOutcome } from "./scheduled-run.js";
import { copyKvBindings, copyVars, isolateRequest, usesUrl } from "./script-input.js";
import { createThreadedRunner } from "./threads/threaded-runner.js";
import type {
  HostRequest,
  RunOptions,
  RunResult,
  ScheduledEvent,
  ScheduledResult,
  ScriptLimits,
  StreamingRunResult,
  WaitUntilResult,
  WorkerScript,
} from "./types.js";
import type { IsolateKind } from "./warm-isolate.js";

/** What enter() hands the handler call: the module, the script, its bindings, its slot and log collector. */
interface HandlerCall {
  namespace: ivm.Reference<Record<string, unknown>>;
  script: CompiledScript;
  bindings: string[];
  slot: RunSlot;
  logs: LogCollector;
}

export interface PreparedScript {
  readonly name: string;
  readonly version: number;
  readonly limits: ScriptLimits;
}

export interface IsolateRunnerOptions {
  /** Node-wide maxima; a script's limits are clamped to these. Defaults { cpuMs: 50, memoryMb: 128, wallMs: 30_000 }. */
  maxLimits?: ScriptLimits;
  logger?: Logger;
  /**
   * Isolates kept built ahead of time per hot script (runtime loaded, the
   * script's top-level code run, never used by a request), so requests skip
   * isolate creation and module evaluation. Each still serves one request
   * only. 0 builds every isolate on the request path. Default 2.
   */
  warmIsolates?: number;
  /**
   * Memory (V8 heap plus ArrayBuffers) the isolates built ahead of time may
   * hold together; past it, scripts' isolates are built on demand. A script's
   * top-level data lives in each of its ready isolates. Default 256 MiB.
   */
  warmIsolatesMaxBytes?: number;
  /**
   * Start fresh isolates from a V8 startup snapshot of the runtime (default true); false loads
   * the runtime into each from its code cache instead (for comparison in benchmarks).
   */
  runtimeSnapshot?: boolean;
  /** Limits on scripts' outbound fetch() (subrequests, timeout, size, forbidden targets). */
  fetch?: FetchOptions;
  /** Largest response body a script may return (EDGE_RESPONSE_TOO_LARGE past it). Default 32 MiB. */
  maxResponseBytes?: number;
  /**
   * Worker threads to spread requests over, each building and running its own
   * fresh isolates (see threads/threaded-runner.ts); 0 runs everything on the
   * calling thread. Default 0. `availableParallelism()` uses every core.
   */
  threads?: number;
  /** How many requests may start in isolates at once, and how many may wait (see admission.ts). */
  admission?: Partial<AdmissionOptions>;
  /** Serves scripts' Workers KV bindings (see host/kv.ts); absent: a binding's operations fail. */
  kv?: KvProvider;
  /** Serves the Cache API (`caches`, see host/cache.ts); absent: its operations fail. */
  cache?: CacheProvider;
  /**
   * CPU time a script's top-level code may take when prepare() evaluates it, apart from the
   * per-request CPU limit (Cloudflare allows 1 s of start-up CPU). Past it: EDGE_STARTUP_LIMIT.
   * Default 1000.
   */
  startupCpuMs?: number;
  /**
   * Bytes the host may hold for all scripts' subrequest bodies at once (each request: at most its
   * memory limit). Past it subrequests fail. Default 512 MiB (split between threads).
   */
  maxHostBytes?: number;
}

export const DEFAULT_STARTUP_CPU_MS = 1_000;

export interface IsolateRunner {
  /** Compiles once (validates; keeps V8 code cache for later isolates). Throws RunError EDGE_COMPILE_ERROR
   *  (message has line:column) or EDGE_NO_FETCH_HANDLER. */
  prepare(script: WorkerScript): Promise<PreparedScript>;
  /** Runs one request in a FRESH isolate and resolves with the whole response, or rejects with a RunError
   *  (EDGE_SCRIPT_ERROR 500, EDGE_BAD_RESPONSE, EDGE_CPU_LIMIT 503, EDGE_MEMORY_LIMIT 503, EDGE_WALL_LIMIT 504,
   *  EDGE_SUBREQUEST_LIMIT 503, EDGE_RESPONSE_TOO_LARGE 502). ctx.waitUntil() work goes on after it resolves
   *  (see RunResult.waitUntil). Never lets a script take down the process. */
  run(prepared: PreparedScript, request: HostRequest, options?: RunOptions): Promise<RunResult>;
  /** As run(), but resolves as soon as the response head is ready; the body is read from the isolate as
   *  the caller iterates it. The isolate lives until the body is done and ctx.waitUntil() work has ended. */
  runStreaming(
    prepared: PreparedScript,
    request: HostRequest,
    options?: RunOptions,
  ): Promise<StreamingRunResult>;
  /** Runs the script's scheduled() handler for a Cron Trigger in a FRESH isolate with the script's limits,
   *  ctx.waitUntil() work included. Resolves with the outcome (ok / exception / limit); rejects only for
   *  failures that are not the script's (EDGE_OVERLOADED, a disposed runner). */
  runScheduled(prepared: PreparedScript, event: ScheduledEvent): Promise<ScheduledResult>;
  /**
   * Stops the runner: runs under way end (EDGE_SHUTDOWN), later calls fail, and
   * every isolate is disposed, even one being built. Resolves once they are
   * released and, for a threaded runner, once its threads have exited.
   */
  dispose(): Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export function createIsolateRunner(options: IsolateRunnerOptions = {}): IsolateRunner {
  const threads = Math.max(0, Math.floor(options.threads ?? 0));
  return threads > 0 ? createThreadedRunner(options, threads) : createLocalRunner(options);
}

/** The runner on the calling thread: what each worker thread of a threaded runner runs too. */
function createLocalRunner(options: IsolateRunnerOptions): IsolateRunner {
  const maxLimits = clampLimits(
    options.maxLimits ?? DEFAULT_MAX_LIMITS,
    options.maxLimits ?? DEFAULT_MAX_LIMITS,
  );
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "isolate-host" });
  const fetch: FetchPolicy = fetchPolicy(options.fetch);
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const kv = options.kv ?? null;
  const cacheProvider = options.cache ?? null;
  const startupCpuMs = options.startupCpuMs ?? DEFAULT_STARTUP_CPU_MS;
  const hostMemory = new HostMemory(options.maxHostBytes ?? DEFAULT_MAX_HOST_BYTES);
  const compiled = new WeakMap<PreparedScript, CompiledScript>();
  const live = new Set<IsolateSession>();
  const inFlight = new ScriptInFlight(admissionOf(options).maxInFlightPerScript);
  /** What to call when a request's isolate is gone (its in-flight count). */
  const finished = new WeakMap<IsolateSession, () => void>();
  const { concurrency, maxQueue, perScript } = admissionOf(options);
  const admission = new Admission(concurrency, maxQueue, perScript);
  const supply = new IsolateSupply(
    options.warmIsolates ?? 2,
    options.warmIsolatesMaxBytes ?? DEFAULT_MAX_IDLE_BYTES,
    logger,
    options.runtimeSnapshot ?? true,
  );
  let disposed = false;

  function assertOpen(): void {
    if (disposed) throw new Error("The isolate runner has been disposed");
  }

  /** A session on an isolate built ahead of time for the script when one is ready, else on one built now. */
  async function openSession(
    kind: IsolateKind,
    limits: ScriptLimits,
    logs: LogCollector,
    script?: CompiledScript,
  ): Promise<IsolateSession> {
    const warm = await supply.take(kind, script);
    if (disposed) {
      warm.isolate.dispose();
      assertOpen();
    }
    const session = new IsolateSession(warm, limits, logs, fetch);
    live.add(session);
    return session;
  }

  /**
   * Stops the session's clocks now; disposes the isolate and refills the pool
   * right after the caller has its result, as both block the event loop.
   */
  function closeSession(session: IsolateSession, script: CompiledScript | null): void {
    session.stop();
    setImmediate(() => {
      live.delete(session);
      finished.get(session)?.();
      session.dispose();
      if (script !== null) supply.refill(script);
    });
  }

  function compiledOf(prepared: PreparedScript): CompiledScript {
    const script = compiled.get(prepared);
    if (script === undefined)
      throw new TypeError("run() needs a PreparedScript returned by this runner's prepare()");
    return script;
  }

  /** Starts a request: fresh isolate, module from its code cache, fetch handler called, response head validated. */
  async function start(prepared: PreparedScript, request: HostRequest, signal: AbortSignal | undefined) {
    const input = isolateRequest(request);
    const { value, ...rest } = await enter(prepared, request.hops ?? 0, signal, async (session, call) => {
      const outcome = await session.dispatch(
        call.namespace,
        input,
        call.script.vars,
        call.bindings,
        call.slot,
      );
      if (session.overMemory) throw session.memoryLimitError();
      const context = {
        cpuMs: session.cpuMs(),
        logs: call.logs.lines,
        codeOf: session.scriptFailureCode.bind(session),
        ...(session.mapStack === null ? {} : { mapStack: session.mapStack }),
      };
      const head = responseFromOutcome(outcome, context);
      if (head.body !== null && head.body.byteLength > maxResponseBytes) {
        throw new RunError(
          "EDGE_RESPONSE_TOO_LARGE",
          `The script's response body is larger than the ${maxResponseBytes}-byte limit`,
          context,
        );
      }
      return head;
    });
    const heapBytes = rest.session.isolate.getHeapStatisticsSync().used_heap_size;
    return { ...rest, head: value, heapBytes };
  }

  /**
   * Enters a fresh isolate for one event: admission, the module from its code
   * cache, bindings; then `invoke` calls the handler. On failure the session is closed.
   */
  async function enter<T>(
    prepared: PreparedScript,
    hops: number,
    signal: AbortSignal | undefined,
    invoke: (session: IsolateSession, call: HandlerCall) => Promise<T>,
  ) {
    assertOpen();
    const script = compiledOf(prepared);
    const started = performance.now();
    const logs = new LogCollector();
    const done = inFlight.begin(prepared.name);
    let leave: () => void;
    try {
      leave = await admission.enter({ key: prepared.name, signal });
    } catch (err) {
      done();
      if (signal?.aborted === true) throw clientClosed();
      throw err;
    }
    const slot = new RunSlot(admission, prepared.name, leave);
    const admitted = performance.now();
    let session: IsolateSession;
    try {
      session = await openSession(script.kind, script.limits, logs, script);
    } catch (err) {
      slot.close();
      done();
      throw err;
    }
    session.mapStack = (stack) => script.mapper.map(stack);
    finished.set(session, done);
    session.bridge.hops = hops;
    session.bridge.memory = hostMemory.account(script.limits.memoryMb * 1024 * 1024);
    // A client gone before the response ends the run and its subrequests now.
    const onAbort = (): void => session.kill("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted === true) onAbort();
      let namespace = session.namespace;
      if (namespace === null) {
        // Built on demand: top-level code runs on the start-up budget, not the request's.
        session.beginStartup(startupCpuMs);
        namespace = await session.evaluate(await session.link(script.set, script.caches, false));
        session.endStartup();
      }
      // From admission, not arrival: time spent waiting for a slot is not the isolate's start.
      const startMs = performance.now() - admitted;
      const bindings = Object.keys(script.kvBindings);
      session.bridge.bindKv(
        bindings.length > 0 && kv !== null
          ? {
              provider: kv,
              bindings: script.kvBindings,
              caller: { script: prepared.name, version: prepared.version },
            }
          : null,
      );
      session.bridge.bindCache(
        cacheProvider === null ? null : { provider: cacheProvider, caller: { script: prepared.name } },
      );
      const value = await invoke(session, { namespace, script, bindings, slot, logs });
      // Caught or not, asking for memory past the limit ends the request.
      if (session.overMemory) throw session.memoryLimitError();
      return { script, session, logs, value, started, startMs };
    } catch (err) {
      closeSession(session, script);
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      slot.close();
    }
  }

  /**
   * The request's life after its response: the body (if streamed) and then
   * ctx.waitUntil() work, within the same limits; the isolate is disposed
   * when both are done. Never rejects.
   */
  async function background(
    session: IsolateSession,
    script: CompiledScript,
    logs: LogCollector,
    pending: { bodyDone: Promise<void>; waitUntil: number; logsSent: number; started: number },
  ): Promise<WaitUntilResult> {
    let error: RunError | null = null;
    try {
      // Raced with the limits: a body nobody reads ends at the wall-clock limit.
      await session.guard(pending.bodyDone);
      if (pending.waitUntil > 0) await session.settle();
    } catch (err) {
      if (err instanceof RunError) error = err;
      else logger.warn({ err }, "background work of a request failed in the host");
    } finally {
      closeSession(session, script);
    }
    return {
      cpuMs: session.cpuMs(),
      wallMs: performance.now() - pending.started,
      logs: logs.lines.slice(pending.logsSent),
      error,
    };
  }

  function reader(session: IsolateSession, logs: LogCollector): BodyReader {
    return {
      pull: (all, maxBytes) => session.pull(all, maxBytes),
      cancel: () => session.cancelBody(),
      context: () => ({
        cpuMs: session.cpuMs(),
        logs: logs.lines,
        codeOf: session.scriptFailureCode.bind(session),
        ...(session.mapStack === null ? {} : { mapStack: session.mapStack }),
      }),
    };
  }

  return {
    async prepare(script) {
      assertOpen();
      const limits = clampLimits(script.limits, maxLimits);
      const set = moduleSetOf(script);
      const mapper = new StackMapper(set);
      const vars = copyVars(script.vars);
      const kind: IsolateKind = { memoryMb: limits.memoryMb, preloadUrl: usesUrl(set) };
      // Top-level code has its own CPU budget, not the per-request one (which may be far smaller).
      const startupLimits: ScriptLimits = { ...limits, cpuMs: Math.max(limits.cpuMs, startupCpuMs) };
      // Deploys queue for a slot like requests (their top-level code runs on the same clock), but
      // are never refused for overload: a busy node must not NACK a good version.
      const leave = await admission.enter({ key: script.name, alwaysQueue: true });
      let session: IsolateSession;
      try {
        // Top-level console output during validation is not part of any request.
        session = await openSession(kind, startupLimits, new LogCollector());
      } catch (err) {
        leave();
        throw err;
      }
      let entry: CompiledScript | null = null;
      try {
        session.mapStack = (stack) => mapper.map(stack);
        const caches: ModuleCaches = new Map();
        const module = await session.link(set, caches, true);
        const problem = await session.validate(await session.evaluate(module));
        if (problem !== null) responseFromOutcome(problem, { cpuMs: session.cpuMs(), logs: [] });
        const prepared: PreparedScript = Object.freeze({
          name: script.name,
          version: script.version,
          limits,
        });
        entry = supply.compiled(prepared, {
          set,
          caches,
          mapper,
          vars,
          kvBindings: copyKvBindings(script.kvBindings),
          limits,
          kind,
        });
        compiled.set(prepared, entry);
        logger.debug({ script: script.name, version: script.version }, "script prepared");
        return prepared;
      } catch (err) {
        if (isRunError(err) && err.code === "EDGE_CPU_LIMIT") {
          throw new RunError(
            "EDGE_STARTUP_LIMIT",
            `The script's top-level code exceeded its start-up CPU limit of ${startupLimits.cpuMs} ms`,
            { cause: err, cpuMs: err.cpuMs },
          );
        }
        throw err;
      } finally {
        leave();
        // Once this isolate is gone, the first ones for the new version are built.
        closeSession(session, entry);
      }
    },

    async run(prepared, request, options) {
      const { script, session, logs, head, started, startMs, heapBytes } = await start(
        prepared,
        request,
        options?.signal,
      );
      let body = head.body;
      if (body === null) {
        try {
          body = await readWholeBody(reader(session, logs), maxResponseBytes);
        } catch (err) {
          closeSession(session, script);
          throw err;
        }
      }
      const cpuMs = session.cpuMs();
      const logsSent = logs.lines.length;
      const waitUntil =
        head.waitUntil === 0
          ? settledNow(session, script, logs, started)
          : background(session, script, logs, {
              bodyDone: Promise.resolve(),
              waitUntil: head.waitUntil,
              logsSent,
              started,
            });
      return {
        response: { status: head.status, headers: head.headers, body },
        cpuMs,
        wallMs: performance.now() - started,
        startMs,
        heapBytes,
        logs: logs.lines.slice(),
        waitUntil,
      };
    },

    async runStreaming(prepared, request, options) {
      const { script, session, logs, head, started, startMs, heapBytes } = await start(
        prepared,
        request,
        options?.signal,
      );
      const cpuMs = session.cpuMs();
      const logsSent = logs.lines.length;
      const length = head.body?.byteLength ?? null;
      const { body, done } = streamBody(head.body, reader(session, logs), maxResponseBytes);
      const waitUntil = background(session, script, logs, {
        bodyDone: done,
        waitUntil: head.waitUntil,
        logsSent,
        started,
      });
      return {
        response: { status: head.status, headers: head.headers, length, body },
        cpuMs,
        wallMs: performance.now() - started,
        startMs,
        heapBytes,
        logs: logs.lines.slice(),
        waitUntil,
      };
    },

    async runScheduled(prepared, event) {
      const started = performance.now();
      const input = { cron: String(event.cron), scheduledTime: Number(event.scheduledTime) };
      let entered: Awaited<ReturnType<typeof enterScheduled>>;
      try {
        entered = await enterScheduled(prepared, input);
      } catch (err) {
        if (isRunError(err) && err.code === "EDGE_OVERLOADED") throw err;
        return failedScheduled(err, started);
      }
      const { script, session, logs, value } = entered;
      const after = await background(session, script, logs, {
        bodyDone: Promise.resolve(),
        waitUntil: value.waitUntil,
        logsSent: 0,
        started,
      });
      if (after.error !== null) return { ...failedScheduled(after.error, started), noRetry: value.noRetry };
      return {
        outcome: "ok",
        error: null,
        noRetry: value.noRetry,
        cpuMs: after.cpuMs,
        wallMs: after.wallMs,
        logs: after.logs,
      };
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      for (const session of live) session.kill("shutdown");
      live.clear();
      await supply.dispose();
    },
  };

  function enterScheduled(prepared: PreparedScript, event: ScheduledEvent) {
    return enter(prepared, 0, undefined, async (session, call) => {
      const outcome = await session.scheduled(
        call.namespace,
        event,
        call.script.vars,
        call.bindings,
        call.slot,
      );
      if (session.overMemory) throw session.memoryLimitError();
      return scheduledFromOutcome(outcome, {
        cpuMs: session.cpuMs(),
        logs: call.logs.lines,
        codeOf: session.scriptFailureCode.bind(session),
      });
    });
  }

  /** The common case: nothing runs after the response, so the isolate goes right away. */
  function settledNow(
    session: IsolateSession,
    script: CompiledScript,
    logs: LogCollector,
    started: number,
  ): Promise<WaitUntilResult> {
    closeSession(session, script);
    return Promise.resolve({
      cpuMs: session.cpuMs(),
      wallMs: performance.now() - started,
      logs: logs.lines.slice(logs.lines.length),
      error: null,
    });
  }
}

function clientClosed(): RunError {
  return new RunError("EDGE_CLIENT_CLOSED", "The client closed the connection before the response");
}
