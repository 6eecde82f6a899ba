/**
 * Top-level await: a module's evaluation can outlast the host's
 * `module.evaluate()` call (isolated-vm drops V8's evaluation promise), and
 * its exports stay uninitialised until the awaited work ends. The host asks
 * `moduleEvaluating()` right after evaluating; only when it says yes does it
 * link a one-line module importing the script, whose body runs once the
 * script's evaluation has finished and calls the hook `whenEvaluated()`
 * installed, so requests never read an export in its temporal dead zone.
 */

/** The global the host's waiter module calls; see src/module-evaluation.ts. */
export const MODULE_EVALUATED_HOOK = "__edgeModuleEvaluated";

/** True while any export of the namespace is still in its temporal dead zone. */
export function moduleEvaluating(namespace: Record<string, unknown>): boolean {
  try {
    // Object.keys reads each export's descriptor, which throws in the dead zone.
    Object.keys(namespace);
    return false;
  } catch {
    return true;
  }
}

/** Resolves when the waiter module calls the hook (the script's top-level code has finished). */
export function whenEvaluated(): Promise<void> {
  return new Promise<void>((resolve) => {
    Object.defineProperty(globalThis, MODULE_EVALUATED_HOOK, {
      configurable: true,
      enumerable: false,
      writable: false,
      value: () => {
        delete (globalThis as Record<string, unknown>)[MODULE_EVALUATED_HOOK];
        resolve();
      },
    });
  });
}
