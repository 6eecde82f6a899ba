import ivm from "isolated-vm";
import type { Logger } from "pino";
import { RunError } from "./errors.js";
import type { HostOpContext } from "./host/op.js";
import { PURE_HOST_OPS } from "./host/table.js";
import { callHostOp, type HostBridge, hostError } from "./host-bridge.js";
import { moduleEvaluating } from "./module-evaluation.js";
import { linkModules, type ModuleCaches } from "./modules/link.js";
import type { ModuleSet } from "./modules/module-set.js";
import type { RuntimeCode } from "./runtime-code.js";

/** What an isolate is built for: its memory limit (fixed at creation) and whether URL support is preloaded. */
export interface IsolateKind {
  memoryMb: number;
  preloadUrl: boolean;
}

/**
 * A brand-new isolate with the runtime installed and, when built ahead of
 * time for a script (createScriptIsolate), that script's module evaluated:
 * the part of a request's isolate that does not depend on the request. It has
 * never served a request.
 */
export interface WarmIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** The runtime's entry points (runtime/index.ts RuntimeEntry), taken before any script code exists. */
  readonly entry: ivm.Reference<Record<string, unknown>>;
  /** The script module's namespace when its top-level code already ran; null otherwise. */
  readonly namespace: ivm.Reference<Record<string, unknown>> | null;
  /** Where the runtime's host functions go from now on; console lines written before are handed over. */
  attach(bridge: HostBridge): void;
  /** Time spent so far loading lazy runtime parts into this isolate (runtime/lazy.ts). */
  lazyLoadMs(): number;
}

/** A script version as createScriptIsolate needs it. */
export interface WarmScript {
  /** The version's modules, linked from the code caches prepare() produced. */
  set: ModuleSet;
  caches: ModuleCaches;
  kind: IsolateKind;
  /** Wall-clock bound on the module's top-level code while building ahead of time. */
  startupMs: number;
}

/**
 * Warms the URL code paths (the in-isolate fast path, the host's parser through
 * the pure urlParse operation, URLSearchParams) for scripts that use URLs (see
 * usesUrl): V8 gathers feedback on the first calls in every new isolate.
 */
const PRELOAD_URL = `for (const s of ["https://warm.example/a/b?c=d&e=f", "http://w.example:8080/x?y=1#z", "https://a.b.example/?q=1"]) {
  const u = new URL(s); u.pathname; u.searchParams.get("c"); u.href;
}`;

/** Pure host operations run for top-level code, which is bounded by `startupMs` rather than a request's CPU budget. */
const TOP_LEVEL_CONTEXT: HostOpContext = { charge() {} };

/** Console lines kept from top-level code until a request takes the isolate. */
const MAX_EARLY_LOGS = 64;

/** Top-level code asked the host for something only a request may use (timers, randomness, fetch…). */
export class HostUsedEarlyError extends Error {
  constructor() {
    super("The script's top-level code uses host services, so it is evaluated per request");
  }
}

interface Built extends WarmIsolate {
  /** True once code called a host function before a bridge was attached. */
  hostUsedEarly(): boolean;
  setNamespace(namespace: ivm.Reference<Record<string, unknown>>): void;
}

/**
 * A fresh isolate with the runtime installed. Built `ahead` of a request (off
 * the request path), it is also warmed: URL support preloaded for kinds that
 * want it and the runtime's request path rehearsed; built on the request path,
 * it skips both, and URL support loads lazily if the script needs it.
 */
export async function createWarmIsolate(
  runtime: RuntimeCode,
  kind: IsolateKind,
  logger: Logger,
  ahead = false,
): Promise<Built> {
  const isolate = runtime.newIsolate({
    memoryLimit: kind.memoryMb,
    onCatastrophicError: (message) => logger.fatal({ message }, "isolated-vm catastrophic error"),
  });
  try {
    const context = await isolate.createContext();
    await runtime.install(isolate, context);
    let bridge: HostBridge | null = null;
    let early: Array<[unknown, unknown, number]> | null = [];
    let usedEarly = false;
    // Callbacks become plain functions in the isolate: arguments and results are copied, and
    // they offer no path to host objects. Before a request's bridge is attached they only
    // record that top-level code wanted the host.
    const log = new ivm.Callback((level: unknown, message: unknown) => {
      if (bridge !== null) return bridge.log(level, message);
      if (early === null || early.length >= MAX_EARLY_LOGS) return false;
      early.push([level, message, Date.now()]);
      return true;
    });
    const call = new ivm.Callback((op: unknown, a: unknown, b: unknown, c: unknown) => {
      if (bridge === null) {
        if (typeof op === "string" && PURE_HOST_OPS.has(op))
          return callHostOp(TOP_LEVEL_CONTEXT, op, a, b, c);
        usedEarly = true;
        throw hostError("The host is not available here");
      }
      return bridge.call(op, a, b, c);
    });
    const post = new ivm.Callback(
      (op: unknown, a: unknown, b: unknown) => {
        if (bridge === null) usedEarly = true;
        else bridge.post(op, a, b);
      },
      { ignored: true },
    );
    // __edgeInit deletes itself: once taken here, scripts cannot reach the runtime's entry points.
    const init = context.global.getSync("__edgeInit", { reference: true }) as ivm.Reference;
    let lazyMs = 0;
    const load = runtime.loader(isolate, context, (ms) => {
      lazyMs += ms;
    });
    const entry = init.applySync(undefined, [log, call, post, load], {
      result: { reference: true },
    }) as ivm.Reference;
    init.release();
    // After __edgeInit: loading URL support needs the runtime's lazy loader.
    if (ahead && kind.preloadUrl) await context.eval(PRELOAD_URL, { timeout: 5_000 });
    if (ahead) {
      const rehearse = entry.getSync("rehearse", { reference: true }) as ivm.Reference;
      await rehearse.apply(undefined, [], { result: { promise: true }, timeout: 5_000 });
      rehearse.release();
    }
    let namespace: ivm.Reference<Record<string, unknown>> | null = null;
    return {
      isolate,
      context,
      entry,
      get namespace() {
        return namespace;
      },
      attach(next) {
        bridge = next;
        for (const [level, message, time] of early ?? []) next.log(level, message, time);
        early = null;
      },
      hostUsedEarly: () => usedEarly,
      lazyLoadMs: () => lazyMs,
      setNamespace(value) {
        namespace = value;
      },
    };
  } catch (err) {
    isolate.dispose();
    throw err;
  }
}

/**
 * A fresh isolate with the script's module compiled (from its code cache) and
 * its top-level code run, ready for one request's fetch handler. Fails, and
 * disposes the isolate, when the top-level code needs the host (its timers or
 * randomness belong to a request) or outlasts `startupMs`.
 */
export async function createScriptIsolate(
  runtime: RuntimeCode,
  script: WarmScript,
  logger: Logger,
): Promise<WarmIsolate> {
  const warm = await createWarmIsolate(runtime, script.kind, logger, true);
  try {
    const module = await linkModules(
      warm.isolate,
      warm.context,
      script.set,
      script.caches,
      false,
      (err) => new RunError("EDGE_COMPILE_ERROR", String(err), { cause: err }),
    );
    await module.evaluate({ timeout: script.startupMs });
    // Top-level code still awaiting is waited for per request, on the request's clocks.
    if (warm.hostUsedEarly() || moduleEvaluating(warm.entry, module.namespace))
      throw new HostUsedEarlyError();
    warm.setNamespace(module.namespace);
    return warm;
  } catch (err) {
    warm.isolate.dispose();
    throw err;
  }
}
