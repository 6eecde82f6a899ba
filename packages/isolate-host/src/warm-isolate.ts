import ivm from "isolated-vm";
import type { Logger } from "pino";
import type { IsolateKind } from "./isolate-pool.js";
import type { LogCollector } from "./log-collector.js";
import type { RuntimeCode } from "./runtime-code.js";

/**
 * A brand-new isolate with the runtime installed and no script code yet: the
 * part of a request's isolate that does not depend on the request, so it can
 * be built ahead of time (see IsolatePool).
 */
export interface WarmIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** The runtime's { dispatch, validate }, taken before any script code exists in the isolate. */
  readonly entry: ivm.Reference<Record<string, unknown>>;
  /** Where the script's console output goes; set once the isolate serves a request. */
  attachLogs(collector: LogCollector): void;
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
    let collector: LogCollector | null = null;
    const logSink = new ivm.Callback(
      (level: unknown, message: unknown) => collector?.add(level, message) ?? false,
    );
    // __edgeInit deletes itself: once taken here, scripts cannot reach the runtime's entry points.
    const init = context.global.getSync("__edgeInit", { reference: true }) as ivm.Reference;
    const entry = init.applySync(undefined, [logSink], { result: { reference: true } }) as ivm.Reference;
    init.release();
    return {
      isolate,
      context,
      entry,
      attachLogs(next) {
        collector = next;
      },
    };
  } catch (err) {
    isolate.dispose();
    throw err;
  }
}
