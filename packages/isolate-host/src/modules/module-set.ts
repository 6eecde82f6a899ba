import { RunError } from "../errors.js";
import type { ModuleType, ScriptModule, WorkerScript } from "../types.js";

/** Most modules one version may hold (the main one included). */
export const MAX_MODULES = 256;
const MAX_NAME_LENGTH = 256;
const MODULE_TYPES: ReadonlySet<string> = new Set<ModuleType>(["esm", "text", "data", "wasm", "sourcemap"]);

/** One importable module of a version: the main module is an `esm` one like the others. */
export interface LinkableModule {
  readonly name: string;
  readonly type: Exclude<ModuleType, "sourcemap">;
  /** ES module or text source. */
  readonly text: string | null;
  /** Data or Wasm bytes. */
  readonly bytes: Uint8Array | null;
  /** The name isolates compile it under: what stack traces show. */
  readonly filename: string;
}

/**
 * A version's modules as the runner links them: the main module, every other
 * importable module by name, and the source maps by the module they map.
 */
export interface ModuleSet {
  readonly main: LinkableModule;
  readonly modules: ReadonlyMap<string, LinkableModule>;
  /** Module name -> its source map (JSON text). */
  readonly sourceMaps: ReadonlyMap<string, string>;
  /** Module filename (as in stack traces) -> module name. */
  readonly byFilename: ReadonlyMap<string, string>;
}

function invalid(message: string): RunError {
  return new RunError("EDGE_COMPILE_ERROR", message);
}

/** A module name is a relative path without `.`/`..` segments, so imports resolve to it like URLs. */
export function checkModuleName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw invalid(`A module name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  const segments = name.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..") || /[\0\\?#]/.test(name)) {
    throw invalid(`Invalid module name '${name}': use a relative path like 'lib/util.js'`);
  }
  return name;
}

/** The filename a module is compiled under: `worker:///<script>/v<version>/<module>`. */
export function moduleFilename(script: Pick<WorkerScript, "name" | "version">, module: string): string {
  const path = module.split("/").map(encodeURIComponent).join("/");
  return `worker:///${encodeURIComponent(script.name)}/v${script.version}/${path}`;
}

/** The main module's name: given, or `<script>.js`. */
export function mainModuleName(script: Pick<WorkerScript, "name" | "mainModule">): string {
  return script.mainModule ?? `${script.name}.js`;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Checks a version's modules (the isolate's input is untrusted too) and indexes them for linking. */
export function moduleSetOf(script: WorkerScript): ModuleSet {
  const mainName = checkModuleName(mainModuleName(script));
  const main: LinkableModule = {
    name: mainName,
    type: "esm",
    text: script.source,
    bytes: null,
    filename: moduleFilename(script, mainName),
  };
  const modules = new Map<string, LinkableModule>([[mainName, main]]);
  const sourceMaps = new Map<string, string>();
  const extra: ScriptModule[] = script.modules ?? [];
  if (extra.length + 1 > MAX_MODULES) throw invalid(`A version may hold at most ${MAX_MODULES} modules`);
  for (const module of extra) {
    const name = checkModuleName(module.name);
    if (!MODULE_TYPES.has(module.type)) throw invalid(`Module '${name}' has an unknown type`);
    if (!(module.content instanceof Uint8Array)) throw invalid(`Module '${name}' has no content`);
    if (module.type === "sourcemap") {
      const target = name.endsWith(".map") ? name.slice(0, -4) : "";
      if (sourceMaps.has(target) || target === "") {
        throw invalid(`Source map '${name}' must be named '<module>.map' once per module`);
      }
      sourceMaps.set(target, decoder.decode(module.content));
      continue;
    }
    if (modules.has(name)) throw invalid(`Two modules are named '${name}'`);
    const textual = module.type === "esm" || module.type === "text";
    modules.set(name, {
      name,
      type: module.type,
      text: textual ? decoder.decode(module.content) : null,
      bytes: textual ? null : module.content,
      filename: moduleFilename(script, name),
    });
  }
  for (const target of sourceMaps.keys()) {
    if (modules.get(target)?.type !== "esm") throw invalid(`Source map '${target}.map' maps no ES module`);
  }
  const byFilename = new Map([...modules.values()].map((m) => [m.filename, m.name] as const));
  return { main, modules, sourceMaps, byFilename };
}

/**
 * Resolves an import specifier from a module: relative (`./`, `../`) and
 * absolute (`/`) specifiers as URL paths against the importer's name, bare
 * ones as module names from the root (as Cloudflare does). Null when no
 * module of the version has that name.
 */
export function resolveModule(set: ModuleSet, specifier: string, referrer: string): LinkableModule | null {
  let name = specifier;
  if (/^\.{0,2}\//.test(specifier)) {
    const url = new URL(specifier, `file:///${referrer}`);
    name = decodeURIComponent(url.pathname.slice(1));
  }
  return set.modules.get(name) ?? null;
}
