/**
 * reportError() (HTML standard): reports an exception as if it had gone
 * uncaught: an `error` ErrorEvent on the global scope when it is an
 * EventTarget (none here yet, as in module Workers), else, or when no listener
 * cancels that event, an error line in the script's log and tail.
 */
import { logInternal } from "../console.js";
import { describeError } from "../describe-error.js";

const reflectApply = Reflect.apply;

export function reportError(...args: unknown[]): void {
  if (args.length === 0) {
    throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
  }
  const error = args[0];
  const scope = globalThis as {
    dispatchEvent?: unknown;
    ErrorEvent?: new (type: string, init: object) => unknown;
  };
  if (typeof scope.dispatchEvent === "function" && typeof scope.ErrorEvent === "function") {
    const message = error instanceof Error ? error.message : describeError(error);
    const event = new scope.ErrorEvent("error", { cancelable: true, error, message });
    const notCancelled = reflectApply(scope.dispatchEvent, globalThis, [event]);
    if (notCancelled === false) return;
  }
  // describeError already says "Uncaught" for values that are not errors.
  const described = describeError(error);
  logInternal("error", described.startsWith("Uncaught") ? described : `Uncaught ${described}`);
}
