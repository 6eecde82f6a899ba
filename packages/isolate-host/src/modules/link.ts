import ivm from "isolated-vm";
import { RunError } from "../errors.js";
import { type LinkableModule, type ModuleSet, resolveModule } from "./module-set.js";

/** V8 code caches of a version's ES modules by module name, produced when it was prepared. */
export type ModuleCaches = Map<string, ivm.ExternalCopy<ArrayBuffer>>;

/** Where data and Wasm bytes wait for their module's top-level code to take them (deleted at once). */
const HANDOFF = "__edgeModuleBytes";

/**
 * The source an isolate compiles for a module: ES modules as they are, text
 * as a string export, data as an ArrayBuffer and Wasm as a WebAssembly.Module
 * taken from a global the host sets just before (see HANDOFF).
 */
function moduleSource(module: LinkableModule, slot: number): string {
  switch (module.type) {
    case "esm":
      return module.text ?? "";
    case "text":
      return `export default ${JSON.stringify(module.text ?? "")};`;
    case "data":
    case "wasm": {
      const take = `const bytes = globalThis.${HANDOFF}${slot}; delete globalThis.${HANDOFF}${slot};`;
      const value = module.type === "wasm" ? "new WebAssembly.Module(bytes)" : "bytes";
      return `${take}\nexport default ${value};`;
    }
  }
}

/** Failure to compile or link: EDGE_COMPILE_ERROR naming the module and, from V8, its line:column. */
export class ModuleLinkError extends RunError {
  constructor(message: string, cause?: unknown) {
    super("EDGE_COMPILE_ERROR", message, cause === undefined ? undefined : { cause });
  }
}

/**
 * Compiles the version's main module and links its imports over the
 * version's modules (each compiled once, lazily, from its code cache when
 * there is one; with `produce`, new caches are recorded in `caches`). Returns
 * the main module, instantiated and not yet evaluated.
 */
export async function linkModules(
  isolate: ivm.Isolate,
  context: ivm.Context,
  set: ModuleSet,
  caches: ModuleCaches,
  produce: boolean,
  compileError: (err: unknown, module: LinkableModule, main: boolean) => RunError,
): Promise<ivm.Module> {
  const byName = new Map<string, ivm.Module>();
  const names = new Map<ivm.Module, string>();
  let slots = 0;

  async function compile(module: LinkableModule): Promise<ivm.Module> {
    const known = byName.get(module.name);
    if (known !== undefined) return known;
    const slot = slots++;
    const cachedData = caches.get(module.name);
    let compiled: ivm.Module;
    try {
      compiled = await isolate.compileModule(moduleSource(module, slot), {
        filename: module.filename,
        ...(cachedData !== undefined
          ? { cachedData }
          : produce && module.type === "esm"
            ? { produceCachedData: true }
            : {}),
      });
    } catch (err) {
      throw compileError(err, module, module === set.main);
    }
    const produced = (compiled as ivm.Module & Partial<ivm.CachedDataResult>).cachedData;
    if (produce && produced !== undefined) caches.set(module.name, produced);
    if (module.bytes !== null) {
      const copy = new ivm.ExternalCopy(module.bytes.slice().buffer);
      await context.global.set(`${HANDOFF}${slot}`, copy.copyInto({ release: true }));
    }
    byName.set(module.name, compiled);
    names.set(compiled, module.name);
    return compiled;
  }

  const main = await compile(set.main);
  // What the resolver throws reaches instantiate() only as a copy: keep the original.
  let failure: RunError | null = null;
  try {
    await main.instantiate(context, async (specifier, referrer) => {
      const from = names.get(referrer) ?? set.main.name;
      const target = resolveModule(set, specifier, from);
      try {
        if (target === null) throw new ModuleLinkError(`Cannot resolve import '${specifier}' from ${from}`);
        return await compile(target);
      } catch (err) {
        failure ??= err instanceof RunError ? err : new ModuleLinkError(String(err), err);
        throw err;
      }
    });
  } catch (err) {
    throw failure ?? err;
  }
  return main;
}
