import type { Logger } from "pino";
import { IsolatePool } from "./isolate-pool.js";
import type { ModuleCaches } from "./modules/link.js";
import type { ModuleSet } from "./modules/module-set.js";
import type { StackMapper } from "./modules/stack-map.js";
import { RuntimeCode } from "./runtime-code.js";
import type { ScriptLimits } from "./types.js";
import {
  createScriptIsolate,
  createWarmIsolate,
  HostUsedEarlyError,
  type IsolateKind,
  type WarmIsolate,
} from "./warm-isolate.js";

/** A prepared script version as the runner keeps it; kept off the public object so callers cannot forge it. */
export interface CompiledScript {
  /** Its isolates' key in the pool. */
  readonly key: string;
  /** The version's modules, and the V8 code caches of its ES modules. */
  readonly set: ModuleSet;
  readonly caches: ModuleCaches;
  readonly mapper: StackMapper;
  readonly vars: Record<string, string>;
  readonly kvBindings: Readonly<Record<string, string>>;
  readonly limits: ScriptLimits;
  readonly kind: IsolateKind;
  readonly startupMs: number;
  /** False once building its isolates ahead of time failed for good. */
  warmable: boolean;
  /** Ahead-of-time builds that failed in a row. */
  failures: number;
}

/** Ahead-of-time builds of one script that may fail in a row (e.g. top-level code slowed by load) before it is only built on demand. */
const MAX_BUILD_FAILURES = 3;

/** Bound on a script's top-level code when run ahead of time: its CPU limit, with room for a busy machine. */
function startupMs(limits: ScriptLimits): number {
  return Math.min(limits.wallMs, Math.max(1_000, limits.cpuMs * 10));
}

/**
 * Where a runner's fresh isolates come from: the runtime code (built once),
 * isolates built ahead of time per hot script, and isolates built on demand
 * when none is ready.
 */
export class IsolateSupply {
  readonly #logger: Logger;
  readonly #pool: IsolatePool;
  /** A prepared version nobody holds any more needs no ready isolates. */
  readonly #unused: FinalizationRegistry<string>;
  readonly #snapshot: boolean;
  #runtime: Promise<RuntimeCode> | null = null;
  #nextKey = 1;

  constructor(warmIsolates: number, maxIdleBytes: number, logger: Logger, snapshot = true) {
    this.#logger = logger;
    this.#snapshot = snapshot;
    this.#pool = new IsolatePool(Math.max(0, Math.floor(warmIsolates)), logger, maxIdleBytes);
    this.#unused = new FinalizationRegistry((key) => this.#pool.forget(key));
  }

  /** The record of a newly prepared version, whose isolates are then built ahead of time. */
  compiled(
    owner: object,
    script: Omit<CompiledScript, "key" | "startupMs" | "warmable" | "failures">,
  ): CompiledScript {
    const entry: CompiledScript = {
      ...script,
      key: `script-${this.#nextKey++}`,
      startupMs: startupMs(script.limits),
      warmable: true,
      failures: 0,
    };
    this.#unused.register(owner, entry.key);
    return entry;
  }

  /** An isolate built ahead of time for the script when one is ready, else one built now (runtime only). */
  async take(kind: IsolateKind, script?: CompiledScript): Promise<WarmIsolate> {
    const ready = script?.warmable === true ? this.#pool.take(script.key) : undefined;
    return ready ?? createWarmIsolate(await this.runtime(), kind, this.#logger);
  }

  /** Starts building the script's next isolates; call it once a request is done, not while it runs. */
  refill(script: CompiledScript): void {
    if (script.warmable) this.#pool.fill(script.key, () => this.#buildAhead(script));
  }

  runtime(): Promise<RuntimeCode> {
    this.#runtime ??= RuntimeCode.create(this.#logger, this.#snapshot).catch((err: unknown) => {
      this.#runtime = null; // let a later call retry
      throw err;
    });
    return this.#runtime;
  }

  /** Drops the ready isolates and disposes every isolate still alive, even one being built. */
  async dispose(): Promise<void> {
    this.#pool.dispose();
    const code = await this.#runtime?.catch(() => null);
    if (code === undefined || code === null) return;
    code.disposeIsolates();
    code.release();
  }

  /** Builds one isolate with the script's top-level code run; gives up warming it after repeated failures. */
  async #buildAhead(script: CompiledScript): Promise<WarmIsolate> {
    try {
      const warm = await createScriptIsolate(await this.runtime(), script, this.#logger);
      script.failures = 0;
      return warm;
    } catch (err) {
      script.failures++;
      if (err instanceof HostUsedEarlyError || script.failures >= MAX_BUILD_FAILURES) {
        script.warmable = false;
        this.#pool.forget(script.key);
        this.#logger.debug({ err, key: script.key }, "script isolates are built on demand only");
      }
      throw err;
    }
  }
}
