import ivm from "isolated-vm";
import { isRunError, RunError, type RunErrorCode } from "./errors.js";
import type { FetchPolicy } from "./fetch/fetch-options.js";
import { HostBridge } from "./host-bridge.js";
import type { LogCollector } from "./log-collector.js";
import { finishEvaluation, moduleEvaluating } from "./module-evaluation.js";
import { linkModules, type ModuleCaches } from "./modules/link.js";
import type { ModuleSet } from "./modules/module-set.js";
import type { MappedStack } from "./modules/stack-map.js";
import type { RunSlot } from "./run-slot.js";
import { compileError, describeThrown, killError, messageOf, moduleCompileError } from "./session-errors.js";
import type { ScriptLimits } from "./types.js";
import type { WarmIsolate } from "./warm-isolate.js";

/**
 * Why the host ended an isolate early: a limit, the runner's shutdown, a
 * handler that can never respond, WebAssembly memory past the limit, or the
 * client having gone away.
 */
export type KillReason = "cpu" | "wall" | "shutdown" | "never" | "memory" | "aborted";

/** Data handed to the runtime's dispatch(); mirrors runtime/request.ts HostRequestData. */
export interface IsolateRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
}

/** Data handed to the runtime's scheduled(); mirrors runtime/scheduled.ts HostScheduledEvent. */
export interface IsolateScheduledEvent {
  cron: string;
  scheduledTime: number;
}

type EntryName =
  | "dispatch"
  | "scheduled"
  | "validate"
  | "pull"
  | "cancel"
  | "settle"
  | "complete"
  | "fire"
  | "runState";

/**
 * One request's use of a fresh isolate, until disposal, with its limits
 * enforced: memory by V8 (isolated-vm disposes the isolate past its
 * `memoryLimit`), CPU by a watchdog reading `isolate.cpuTime` (plus host time
 * spent hashing for the script), wall-clock time by a timer. The isolate runs
 * on isolated-vm's threads, so the watchdog fires even while the script spins
 * forever (in a microtask too) and kills it by disposing the isolate. The
 * clocks keep running after the response while the body streams and
 * ctx.waitUntil() work finishes.
 */
export class IsolateSession {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly bridge: HostBridge;
  /** The script module's namespace when the isolate was built with its top-level code run; null otherwise. */
  readonly namespace: ivm.Reference<Record<string, unknown>> | null;
  readonly #limits: ScriptLimits;
  readonly #logs: LogCollector;
  readonly #entry: ivm.Reference<Record<string, unknown>>;
  readonly #refs = new Map<EntryName, ivm.Reference>();
  #cpuBaseline: bigint;
  /** Set while the script's top-level code runs on the request path, with its own CPU budget. */
  #startupCpuMs: number | null = null;
  /** The script asked for WebAssembly memory past its limit: the request ends with EDGE_MEMORY_LIMIT. */
  #overMemory = false;
  readonly #lazyLoadMs: () => number;
  #lazyBaseline: number;
  #cpuAtEnd: bigint | null = null;
  #lazyAtEnd: number | null = null;
  #hostMs = 0;
  #killed: KillReason | null = null;
  #rejectKilled!: (err: Error) => void;
  readonly #killed$: Promise<never>;
  #cpuTimer: NodeJS.Timeout | undefined;
  /** Entries into the isolate for host results, one at a time and in order. */
  #entries: Promise<void> = Promise.resolve();
  /** Set while dispatch() waits for the fetch handler's outcome. */
  #slot: RunSlot | null = null;
  #wallTimer: NodeJS.Timeout | undefined;
  /** While top-level code is awaited: where a failure of a host-to-isolate call goes (its rejection). */
  #lateFailure: ((err: unknown) => void) | null = null;

  /** Takes over a warm isolate and starts the limit clocks. */
  constructor(warm: WarmIsolate, limits: ScriptLimits, logs: LogCollector, fetch: FetchPolicy) {
    this.isolate = warm.isolate;
    this.context = warm.context;
    this.namespace = warm.namespace;
    this.#entry = warm.entry;
    this.#limits = limits;
    this.#logs = logs;
    this.bridge = new HostBridge(logs, fetch, {
      complete: (id, ok, value) => this.#callIn("complete", [id, ok, value]),
      fire: (id) => this.#callIn("fire", [id]),
      charge: (ms) => {
        this.#hostMs += ms;
      },
      memoryMb: limits.memoryMb,
      overMemoryLimit: () => {
        this.#overMemory = true;
        // Not from inside the isolate's own call into the host: right after it.
        setImmediate(() => this.kill("memory"));
      },
    });
    warm.attach(this.bridge);
    this.#killed$ = new Promise<never>((_resolve, reject) => {
      this.#rejectKilled = reject;
    });
    // Only ever observed through a race; never an unhandled rejection.
    this.#killed$.catch(() => {});
    // Building the isolate is the host's cost, not the script's.
    this.#cpuBaseline = this.isolate.cpuTime;
    // Loading lazy runtime parts (URL, streams) is the runtime's cost too.
    this.#lazyLoadMs = warm.lazyLoadMs;
    this.#lazyBaseline = warm.lazyLoadMs();
    this.#startClocks();
  }

  /** CPU time the isolate spent since the session began, less lazy runtime loading, plus host time charged to it. */
  cpuMs(): number {
    const end = this.#cpuAtEnd ?? (this.isolate.isDisposed ? this.#cpuBaseline : this.isolate.cpuTime);
    const nanos = end - this.#cpuBaseline;
    const lazyMs = (this.#lazyAtEnd ?? this.#lazyLoadMs()) - this.#lazyBaseline;
    return Math.max(0, Number(nanos / 1000n) / 1000 - lazyMs) + this.#hostMs;
  }

  get limits(): ScriptLimits {
    return this.#limits;
  }

  /** Maps the script's stacks onto its own files; set by the runner for the script's version. */
  mapStack: ((stack: string) => MappedStack) | null = null;

  /**
   * Compiles the version's main module and links its imports (each module
   * from its code cache when given; with `produce`, caches are recorded).
   */
  async link(set: ModuleSet, caches: ModuleCaches, produce: boolean): Promise<ivm.Module> {
    return this.guard(
      linkModules(this.isolate, this.context, set, caches, produce, moduleCompileError),
      (err) => (isRunError(err) ? err : compileError(err)),
    );
  }

  /**
   * Instantiates and evaluates the module (its top-level code, top-level
   * `await`s included: see module-evaluation.ts) and returns its namespace.
   */
  async evaluate(module: ivm.Module): Promise<ivm.Reference<Record<string, unknown>>> {
    await this.guard(module.evaluate({ timeout: this.#limits.wallMs }));
    const namespace = module.namespace;
    if (moduleEvaluating(this.#entry, namespace)) {
      const failed = new Promise<never>((_resolve, reject) => {
        this.#lateFailure = reject;
      });
      try {
        await this.guard(
          Promise.race([finishEvaluation(this.isolate, this.context, this.#entry, module), failed]),
        );
      } finally {
        this.#lateFailure = null;
      }
    }
    return namespace;
  }

  /** Runs the runtime's prepare-time check of the module's default export. */
  async validate(namespace: ivm.Reference<Record<string, unknown>>): Promise<unknown> {
    return this.guard(
      this.#ref("validate").apply(undefined, [namespace.derefInto()], { result: { copy: true } }),
    );
  }

  /**
   * Calls the script's fetch handler; resolves with the runtime's outcome
   * object. `slot` is the request's admission slot, held now: it is given back
   * whenever the isolate is idle waiting on the host and taken again for each
   * host result (see #afterEntry). A handler that is idle with nothing to wait
   * for will never respond and ends at once with EDGE_NO_RESPONSE.
   */
  async dispatch(
    namespace: ivm.Reference<Record<string, unknown>>,
    request: IsolateRequest,
    env: Record<string, string>,
    kvBindings: readonly string[] = [],
    slot: RunSlot | null = null,
  ): Promise<unknown> {
    return this.#handle("dispatch", namespace, request, env, kvBindings, slot);
  }

  /** As dispatch(), for a Cron Trigger: calls the script's scheduled() handler (runtime/scheduled.ts). */
  async scheduled(
    namespace: ivm.Reference<Record<string, unknown>>,
    event: IsolateScheduledEvent,
    env: Record<string, string>,
    kvBindings: readonly string[],
    slot: RunSlot | null,
  ): Promise<unknown> {
    return this.#handle("scheduled", namespace, event, env, kvBindings, slot);
  }

  async #handle(
    entry: "dispatch" | "scheduled",
    namespace: ivm.Reference<Record<string, unknown>>,
    input: IsolateRequest | IsolateScheduledEvent,
    env: Record<string, string>,
    kvBindings: readonly string[],
    slot: RunSlot | null,
  ): Promise<unknown> {
    const call = this.#ref(entry).apply(
      undefined,
      [
        namespace.derefInto(),
        new ivm.ExternalCopy(input).copyInto({ release: true }),
        new ivm.ExternalCopy(env).copyInto({ release: true }),
        new ivm.ExternalCopy([...kvBindings]).copyInto({ release: true }),
      ],
      { result: { reference: true }, timeout: this.#limits.wallMs },
    );
    this.#slot = slot;
    try {
      const started = this.#enqueue(async () => {
        const promise = await this.guard(call);
        return promise;
      });
      // The handler's synchronous part and the microtasks it queued have run.
      const promise = await started;
      const outcome = this.guard(
        this.context.evalClosure("return $0", [promise.derefInto()], {
          result: { promise: true, copy: true },
          timeout: this.#limits.wallMs,
        }),
      );
      void this.#enqueue(() => this.#afterEntry());
      try {
        return await outcome;
      } finally {
        promise.release();
      }
    } finally {
      this.#slot = null;
    }
  }

  /** Runs `task` after every earlier entry into the isolate has finished. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#entries.then(task);
    this.#entries = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /**
   * After an entry while the handler has not responded: with host work
   * pending (a timer, a subrequest) the request only waits, so its slot goes
   * back; with none, nothing can ever resume it.
   */
  async #afterEntry(): Promise<void> {
    if (this.#slot === null || this.isolate.isDisposed) return;
    const state = (await this.#ref("runState")
      .apply(undefined, [], { result: { copy: true }, timeout: this.#limits.wallMs })
      .catch(() => null)) as { responded?: unknown; pending?: unknown } | null;
    if (this.#slot === null || state === null || state.responded === true) return;
    if (Number(state.pending) > 0) this.#slot.release();
    else this.kill("never");
  }

  /** Reads the next chunk of a streamed response body (or all of it); see runtime/dispatch.ts pull(). */
  async pull(all: boolean, maxBytes: number): Promise<unknown> {
    return this.guard(
      this.#ref("pull").apply(undefined, [all, maxBytes], {
        result: { promise: true, copy: true },
        timeout: this.#limits.wallMs,
      }),
    );
  }

  /** Cancels a streamed response body (the client went away); never throws. */
  async cancelBody(): Promise<void> {
    if (this.isolate.isDisposed) return;
    await this.guard(
      this.#ref("cancel").apply(undefined, [], { result: { promise: true }, timeout: this.#limits.wallMs }),
    ).catch(() => {});
  }

  /** Awaits the script's ctx.waitUntil() work. */
  async settle(): Promise<void> {
    await this.guard(
      this.#ref("settle").apply(undefined, [], { result: { promise: true }, timeout: this.#limits.wallMs }),
    );
  }

  /** Whether the script went over its memory limit (WebAssembly) and the request must end so. */
  get overMemory(): boolean {
    return this.#overMemory;
  }

  /** The error a request that went over its memory limit ends with, whatever the script did next. */
  memoryLimitError(): RunError {
    return new RunError(
      "EDGE_MEMORY_LIMIT",
      `The script exceeded its memory limit of ${this.#limits.memoryMb} MB`,
      {
        cpuMs: this.cpuMs(),
        logs: this.#logs.lines,
      },
    );
  }

  /** The run error an uncaught script failure stands for: a platform limit the script hit, or a script error. */
  scriptFailureCode(code: RunErrorCode, message: string | undefined): RunErrorCode {
    if (this.#overMemory) return "EDGE_MEMORY_LIMIT";
    if (code !== "EDGE_SCRIPT_ERROR" || message === undefined) return code;
    return this.bridge.limitFailures.get(message) ?? code;
  }

  /**
   * Awaits an isolate operation, unless the isolate is killed first, and turns
   * any failure into a RunError. Every failure inside the isolate is the
   * script's doing: it owns the whole isolate and may have broken anything.
   */
  async guard<T>(
    operation: Promise<T>,
    otherError: (err: unknown) => RunError = this.#scriptError,
  ): Promise<T> {
    operation.catch(() => {}); // the losing side of the race must not go unhandled
    try {
      return await Promise.race([operation, this.#killed$]);
    } catch (err) {
      throw this.#toRunError(err, otherError);
    }
  }

  /** Ends the isolate early; pending operations reject with the matching RunError. */
  kill(reason: KillReason): void {
    if (this.#killed !== null || this.isolate.isDisposed) return;
    this.#killed = reason;
    this.stop();
    this.isolate.dispose();
    this.#rejectKilled(new Error(`isolate killed: ${reason}`));
  }

  dispose(): void {
    this.stop();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  /**
   * Host-to-isolate call for a timer or a finished subrequest, in order;
   * failures surface through the main run. While the handler has not
   * responded, the call waits for an admission slot first.
   */
  #callIn(name: "complete" | "fire", args: unknown[]): void {
    void this.#enqueue(async () => {
      if (this.isolate.isDisposed) return;
      await this.#slot?.hold();
      if (this.isolate.isDisposed) return;
      await this.#ref(name)
        .apply(undefined, args, { arguments: { copy: true }, timeout: this.#limits.wallMs })
        .catch((err: unknown) => this.#lateFailure?.(err));
      await this.#afterEntry();
    });
  }

  #ref(name: EntryName): ivm.Reference {
    let ref = this.#refs.get(name);
    if (ref === undefined) {
      ref = this.#entry.getSync(name, { reference: true }) as ivm.Reference;
      this.#refs.set(name, ref);
    }
    return ref;
  }

  /**
   * The script's top-level code is about to run in this session (no isolate
   * was built ahead of time): it gets the start-up CPU budget instead of the
   * request's, and endStartup() then starts the request's CPU clock afresh.
   */
  beginStartup(startupCpuMs: number): void {
    this.#startupCpuMs = Math.max(this.#limits.cpuMs, startupCpuMs);
    this.#armCpu();
  }

  endStartup(): void {
    if (this.#startupCpuMs === null || this.isolate.isDisposed) return;
    this.#startupCpuMs = null;
    this.#cpuBaseline = this.isolate.cpuTime;
    this.#lazyBaseline = this.#lazyLoadMs();
    this.#hostMs = 0;
    this.#armCpu();
  }

  #startClocks(): void {
    this.#armCpu();
    this.#wallTimer = setTimeout(() => this.kill("wall"), Math.ceil(this.#limits.wallMs));
  }

  #armCpu(): void {
    clearTimeout(this.#cpuTimer);
    const cpuMs = this.#startupCpuMs ?? this.#limits.cpuMs;
    // The isolate's CPU time cannot grow faster than the wall clock, so it
    // cannot reach the limit before the remaining budget has elapsed: check
    // then, and re-arm for whatever is left. Fast requests never see a check.
    const check = (): void => {
      if (this.isolate.isDisposed) return;
      const used = this.cpuMs();
      if (used >= cpuMs) {
        this.kill("cpu");
        return;
      }
      this.#cpuTimer = setTimeout(check, Math.max(1, Math.ceil(cpuMs - used)));
    };
    this.#cpuTimer = setTimeout(check, Math.max(1, Math.ceil(cpuMs - this.cpuMs())));
  }

  /** Stops the limit clocks, drops timers and subrequests, and fixes the CPU figure; the isolate stays until dispose(). */
  stop(): void {
    clearTimeout(this.#cpuTimer);
    clearTimeout(this.#wallTimer);
    this.bridge.close();
    if (this.#cpuAtEnd === null && !this.isolate.isDisposed) {
      this.#cpuAtEnd = this.isolate.cpuTime;
      this.#lazyAtEnd = this.#lazyLoadMs();
    }
  }

  readonly #scriptError = (err: unknown): RunError => {
    // isolated-vm copies a thrown Error out with its stack (top-level code, evaluation).
    const stack = err instanceof Error && typeof err.stack === "string" ? err.stack : "";
    const mapped = stack.includes("worker:///") ? this.mapStack?.(stack) : undefined;
    return new RunError("EDGE_SCRIPT_ERROR", describeThrown(err), {
      cause: err,
      cpuMs: this.cpuMs(),
      logs: this.#logs.lines,
      scriptStack: mapped?.stack ?? null,
      location: mapped?.location ?? null,
    });
  };

  #toRunError(err: unknown, otherError: (err: unknown) => RunError): Error {
    const options = { cause: err, cpuMs: this.cpuMs(), logs: this.#logs.lines };
    const killed =
      this.#killed === null ? null : killError(this.#killed, this.#limits, this.#startupCpuMs, options);
    if (killed !== null) return killed;
    // Nobody here disposed the isolate: V8 hit the memory limit.
    if (this.isolate.isDisposed || /memory limit/i.test(messageOf(err))) {
      return killError("memory", this.#limits, null, options) as RunError;
    }
    // isolated-vm's own `timeout` backstop (wall-clock based).
    if (messageOf(err) === "Script execution timed out.") {
      return killError("wall", this.#limits, null, options) as RunError;
    }
    return otherError(err);
  }
}
