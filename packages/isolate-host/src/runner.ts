import type ivm from "isolated-vm";
import { type Logger, pino } from "pino";
import { RunError } from "./errors.js";
import { type IsolateKind, IsolatePool } from "./isolate-pool.js";
import { IsolateSession } from "./isolate-session.js";
import { clampLimits, DEFAULT_MAX_LIMITS } from "./limits.js";
import { LogCollector } from "./log-collector.js";
import { responseFromOutcome } from "./outcome.js";
import { RuntimeCode } from "./runtime-code.js";
import { copyVars, isolateRequest, scriptFilename, usesUrl } from "./script-input.js";
import type { HostRequest, RunResult, ScriptLimits, WorkerScript } from "./types.js";
import { createWarmIsolate } from "./warm-isolate.js";

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
   * Isolates kept built ahead of time per kind (memory limit, URL preloaded),
   * runtime loaded and never used, so requests skip isolate creation. Each
   * still serves one request only. 0 builds every isolate on the request path.
   * Default 2.
   */
  warmIsolates?: number;
}

export interface IsolateRunner {
  /** Compiles once (validates; keeps V8 code cache for later isolates). Throws RunError EDGE_COMPILE_ERROR
   *  (message has line:column) or EDGE_NO_FETCH_HANDLER. */
  prepare(script: WorkerScript): Promise<PreparedScript>;
  /** Runs one request in a FRESH isolate. Resolves with the response, or rejects with a RunError
   *  (EDGE_SCRIPT_ERROR 500 with the script's error message, EDGE_BAD_RESPONSE, EDGE_CPU_LIMIT 503,
   *  EDGE_MEMORY_LIMIT 503, EDGE_WALL_LIMIT 504). Never lets a script take down the process. */
  run(prepared: PreparedScript, request: HostRequest): Promise<RunResult>;
  dispose(): void;
}

/** What run() needs about a prepared version; kept off the public object so callers cannot forge it. */
interface Compiled {
  source: string;
  filename: string;
  cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
  vars: Record<string, string>;
  limits: ScriptLimits;
  kind: IsolateKind;
}

export function createIsolateRunner(options: IsolateRunnerOptions = {}): IsolateRunner {
  const maxLimits = clampLimits(
    options.maxLimits ?? DEFAULT_MAX_LIMITS,
    options.maxLimits ?? DEFAULT_MAX_LIMITS,
  );
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "isolate-host" });
  const compiled = new WeakMap<PreparedScript, Compiled>();
  const live = new Set<IsolateSession>();
  let runtime: Promise<RuntimeCode> | null = null;
  let disposed = false;

  function runtimeCode(): Promise<RuntimeCode> {
    runtime ??= RuntimeCode.create(logger).catch((err: unknown) => {
      runtime = null; // let a later call retry
      throw err;
    });
    return runtime;
  }

  const pool = new IsolatePool(
    Math.max(0, Math.floor(options.warmIsolates ?? 2)),
    async (kind) => createWarmIsolate(await runtimeCode(), kind, logger),
    logger,
  );

  function assertOpen(): void {
    if (disposed) throw new Error("The isolate runner has been disposed");
  }

  async function openSession(
    kind: IsolateKind,
    limits: ScriptLimits,
    logs: LogCollector,
  ): Promise<IsolateSession> {
    const warm = await pool.acquire(kind);
    if (disposed) {
      warm.isolate.dispose();
      assertOpen();
    }
    const session = new IsolateSession(warm, limits, logs);
    live.add(session);
    return session;
  }

  /**
   * Stops the session's clocks now; disposes the isolate and refills the pool
   * right after the caller has its result, as both block the event loop.
   */
  function closeSession(session: IsolateSession, kind: IsolateKind): void {
    session.stop();
    setImmediate(() => {
      live.delete(session);
      session.dispose();
      pool.fill(kind);
    });
  }

  return {
    async prepare(script) {
      assertOpen();
      const limits = clampLimits(script.limits, maxLimits);
      const filename = scriptFilename(script);
      const vars = copyVars(script.vars);
      const kind: IsolateKind = { memoryMb: limits.memoryMb, preloadUrl: usesUrl(script.source) };
      // Top-level console output during validation is not part of any request.
      const session = await openSession(kind, limits, new LogCollector());
      try {
        const module = await session.compileModule(script.source, filename, { produceCachedData: true });
        if (module.dependencySpecifiers.length > 0) {
          throw new RunError(
            "EDGE_COMPILE_ERROR",
            `Imports are not supported (the script imports '${module.dependencySpecifiers[0]}'); bundle it into one module`,
          );
        }
        const problem = await session.validate(await session.evaluate(module));
        if (problem !== null) responseFromOutcome(problem, { cpuMs: session.cpuMs(), logs: [] });
        const cachedData = (module as ivm.Module & ivm.CachedDataResult).cachedData;
        const prepared: PreparedScript = Object.freeze({
          name: script.name,
          version: script.version,
          limits,
        });
        compiled.set(prepared, { source: script.source, filename, cachedData, vars, limits, kind });
        logger.debug({ script: script.name, version: script.version }, "script prepared");
        return prepared;
      } finally {
        closeSession(session, kind);
      }
    },

    async run(prepared, request) {
      assertOpen();
      const script = compiled.get(prepared);
      if (script === undefined)
        throw new TypeError("run() needs a PreparedScript returned by this runner's prepare()");
      const started = performance.now();
      const input = isolateRequest(request);
      const logs = new LogCollector();
      const session = await openSession(script.kind, script.limits, logs);
      try {
        const cache = script.cachedData === undefined ? {} : { cachedData: script.cachedData };
        const module = await session.compileModule(script.source, script.filename, cache);
        const namespace = await session.evaluate(module);
        const outcome = await session.dispatch(namespace, input, script.vars);
        const cpuMs = session.cpuMs();
        const response = responseFromOutcome(outcome, { cpuMs, logs: logs.lines });
        return { response, cpuMs, wallMs: performance.now() - started, logs: logs.lines };
      } finally {
        closeSession(session, script.kind);
      }
    },

    dispose() {
      if (disposed) return;
      disposed = true;
      for (const session of live) session.kill("shutdown");
      live.clear();
      pool.dispose();
      void runtime?.then(
        (code) => code.release(),
        () => {},
      );
    },
  };
}
