import type ivm from "isolated-vm";

/**
 * Top-level await (see runtime/module-evaluation.ts): isolated-vm's
 * `module.evaluate()` returns once the module's synchronous part and its
 * microtasks have run, dropping V8's evaluation promise, so a module still
 * awaiting a timer or a subrequest would be handed to requests with its
 * exports uninitialised ("Cannot access 'default' before initialization").
 */

/** Imports the script; V8 runs its body only once the script's evaluation has finished. */
const WAITER_SOURCE = `import * as script from "edge:script";\nglobalThis.__edgeModuleEvaluated();\n`;

/** True when the module's top-level code is still running (some export is in its temporal dead zone). */
export function moduleEvaluating(
  entry: ivm.Reference<Record<string, unknown>>,
  namespace: ivm.Reference<Record<string, unknown>>,
): boolean {
  const probe = entry.getSync("moduleEvaluating", { reference: true }) as ivm.Reference;
  try {
    return probe.applySync(undefined, [namespace.derefInto()]) === true;
  } finally {
    probe.release();
  }
}

/**
 * Resolves when the module's top-level code has finished. The caller bounds
 * the wait (the script's wall-clock limit) and watches for the evaluation
 * failing, which V8 reports as an unhandled rejection in a later call into
 * the isolate.
 */
export async function finishEvaluation(
  isolate: ivm.Isolate,
  context: ivm.Context,
  entry: ivm.Reference<Record<string, unknown>>,
  module: ivm.Module,
): Promise<void> {
  const hook = entry.getSync("whenEvaluated", { reference: true }) as ivm.Reference;
  let evaluated: Promise<unknown>;
  try {
    evaluated = hook.apply(undefined, [], { result: { promise: true } });
  } finally {
    hook.release();
  }
  const waiter = await isolate.compileModule(WAITER_SOURCE, { filename: "edge-module-waiter.js" });
  await waiter.instantiate(context, () => module);
  await waiter.evaluate();
  await evaluated;
}
