/**
 * Cloudflare's `scheduler.wait(ms, { signal })`: an awaitable setTimeout,
 * rejecting with the signal's reason when it aborts first.
 */
import { addAbortSteps, isAbortSignal } from "./events.js";
import { clearTimeout, setTimeout } from "./timers.js";

function wait(...args: unknown[]): Promise<void> {
  const delay = Number(args[0]);
  const options = args[1];
  let signal: unknown;
  if (options !== undefined && options !== null) {
    if (typeof options !== "object")
      return Promise.reject(new TypeError("scheduler.wait options must be an object"));
    signal = (options as { signal?: unknown }).signal;
    if (signal !== undefined && !isAbortSignal(signal)) {
      return Promise.reject(new TypeError("scheduler.wait: options.signal is not an AbortSignal"));
    }
  }
  return new Promise<void>((resolve, reject) => {
    if (isAbortSignal(signal)) {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(resolve, delay);
      addAbortSteps(signal, () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
      return;
    }
    setTimeout(resolve, delay);
  });
}

class Scheduler {
  wait(...args: unknown[]): Promise<void> {
    return wait(...args);
  }
  get [Symbol.toStringTag](): string {
    return "Scheduler";
  }
}

export const scheduler = new Scheduler();
