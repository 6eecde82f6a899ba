import type { Logger } from "pino";

export interface ShutdownOptions {
  /** Logs the stop, and why it was forced. */
  logger: Logger;
  /** What the app is called in the messages, e.g. `control plane`. */
  name: string;
  /** How long `stop` may take before the process exits anyway, with code 1. */
  graceMs: number;
  /** Drains and closes the app (servers, streams, stores). */
  stop: () => Promise<void>;
  /** Ends the process; `process.exit` unless a test passes its own. */
  exit?: (code: number) => void;
  /** Listen for SIGINT and SIGTERM (default true; tests call `begin` instead). */
  installSignals?: boolean;
}

export interface Shutdown {
  /** Starts the stop as a signal would (idempotent: a second call forces the exit). */
  begin(reason: string): void;
}

/**
 * Bounded shutdown on SIGTERM and SIGINT: the app's `stop()` drains what it
 * can, and the process exits 0 when it resolves, 1 when it fails, or 1 when
 * the grace period runs out first, whatever the app is still doing. A second
 * signal does not wait for the grace period.
 */
export function handleShutdown(options: ShutdownOptions): Shutdown {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger, name, graceMs } = options;
  let stopping = false;
  let done = false;
  const finish = (code: number) => {
    if (done) return;
    done = true;
    exit(code);
  };
  const shutdown: Shutdown = {
    begin(reason) {
      if (stopping) {
        logger.warn({ reason }, `${name}: second signal during shutdown, exiting now`);
        finish(1);
        return;
      }
      stopping = true;
      const started = Date.now();
      logger.info({ reason, graceMs }, `${name} stopping`);
      const timer = setTimeout(() => {
        logger.error({ graceMs }, `${name} did not stop within ${graceMs} ms: exiting anyway`);
        finish(1);
      }, graceMs);
      options.stop().then(
        () => {
          clearTimeout(timer);
          logger.info({ ms: Date.now() - started }, `${name} stopped`);
          finish(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          logger.error({ err }, `${name} did not stop cleanly`);
          finish(1);
        },
      );
    },
  };
  if (options.installSignals !== false) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => shutdown.begin(signal));
  }
  return shutdown;
}
