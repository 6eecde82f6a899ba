import ivm from "isolated-vm";
import type { Logger } from "pino";
import { type HostBridge, hostError } from "./host-bridge.js";
import type { IsolateKind } from "./isolate-pool.js";
import type { RuntimeCode } from "./runtime-code.js";

/**
 * A brand-new isolate with the runtime installed and no script code yet: the
 * part of a request's isolate that does not depend on the request, so it can
 * be built ahead of time (see IsolatePool).
 */
export interface WarmIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** The runtime's entry points (runtime/index.ts RuntimeEntry), taken before any script code exists. */
  readonly entry: ivm.Reference<Record<string, unknown>>;
  /** Where the runtime's host functions go; set once the isolate serves a request. */
  attach(bridge: HostBridge): void;
}

/** Loads whatwg-url and warms the URL parser, for scripts that use URLs (see usesUrl). */
const PRELOAD_URL = `new URL("https://warm.example/a?b=c").searchParams.get("b")`;

export async function createWarmIsolate(
  runtime: RuntimeCode,
  kind: IsolateKind,
  logger: Logger,
): Promise<WarmIsolate> {
  const isolate = new ivm.Isolate({
    memoryLimit: kind.memoryMb,
    onCatastrophicError: (message) => logger.fatal({ message }, "isolated-vm catastrophic error"),
  });
  try {
    const context = await isolate.createContext();
    await runtime.install(isolate, context);
    if (kind.preloadUrl) await context.eval(PRELOAD_URL, { timeout: 5_000 });
    let bridge: HostBridge | null = null;
    // Callbacks become plain functions in the isolate: arguments and results are copied, and
    // they offer no path to host objects. They stay inert until a request's bridge is attached.
    const log = new ivm.Callback((level: unknown, message: unknown) => bridge?.log(level, message) ?? false);
    const call = new ivm.Callback((op: unknown, a: unknown, b: unknown, c: unknown) => {
      if (bridge === null) throw hostError("The host is not available here");
      return bridge.call(op, a, b, c);
    });
    const post = new ivm.Callback(
      (op: unknown, a: unknown, b: unknown) => {
        bridge?.post(op, a, b);
      },
      { ignored: true },
    );
    // __edgeInit deletes itself: once taken here, scripts cannot reach the runtime's entry points.
    const init = context.global.getSync("__edgeInit", { reference: true }) as ivm.Reference;
    const entry = init.applySync(undefined, [log, call, post], {
      result: { reference: true },
    }) as ivm.Reference;
    init.release();
    return {
      isolate,
      context,
      entry,
      attach(next) {
        bridge = next;
      },
    };
  } catch (err) {
    isolate.dispose();
    throw err;
  }
}
