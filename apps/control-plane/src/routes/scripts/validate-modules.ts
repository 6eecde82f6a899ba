import { build, type Message, type Plugin } from "esbuild";
import { EdgeError } from "../../errors.js";
import type { StoredModule, VersionModules } from "../../store/types.js";

/** Most modules one version may hold, the main one included (as the isolate host allows). */
export const MAX_MODULES = 256;
const MAX_NAME_LENGTH = 256;
const MAX_REPORTED = 3;

function invalid(message: string): EdgeError {
  return new EdgeError("EDGE_INVALID_SCRIPT", message);
}

/** A module name is a relative path without `.`/`..` or empty segments, so imports resolve to it like URLs. */
function checkName(name: string): void {
  const bad =
    name.length === 0 ||
    name.length > MAX_NAME_LENGTH ||
    name.split("/").some((s) => s === "" || s === "." || s === "..") ||
    /[\0\\?#]/.test(name);
  if (bad) throw invalid(`Invalid module name '${name}': use a relative path like 'lib/util.js'`);
}

/** As the isolate host resolves: relative and absolute specifiers as URL paths, bare ones from the root. */
function resolveName(specifier: string, importer: string): string {
  if (!/^\.{0,2}\//.test(specifier)) return specifier;
  return decodeURIComponent(new URL(specifier, `file:///${importer}`).pathname.slice(1));
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Node's WebAssembly, which this package's TypeScript libs declare only as a namespace of types. */
const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

function utf8(module: StoredModule): string {
  try {
    return decoder.decode(module.content);
  } catch {
    throw invalid(`Module '${module.name}' (${module.type}) is not valid UTF-8`);
  }
}

/**
 * esbuild over the version's own modules only: every import must name one of
 * them (nothing from disk), so a missing module fails the deploy with the
 * importer's file:line:column.
 */
function inMemory(
  main: string,
  sources: ReadonlyMap<string, string>,
  kinds: ReadonlyMap<string, string>,
): Plugin {
  return {
    name: "edge-version-modules",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return { path: main, namespace: "edge" };
        const name = resolveName(args.path, args.importer);
        const kind = kinds.get(name);
        if (kind === undefined || kind === "sourcemap") {
          return {
            errors: [
              { text: `Cannot resolve import '${args.path}': no module of the version is named '${name}'` },
            ],
          };
        }
        return { path: name, namespace: "edge" };
      });
      b.onLoad({ filter: /.*/, namespace: "edge" }, (args) => {
        const source = sources.get(args.path);
        // Text, data and Wasm modules have a default export only; their content is checked apart.
        return source === undefined
          ? { contents: "export default null;", loader: "js" }
          : { contents: source, loader: "js" };
      });
    },
  };
}

function formatMessage(message: Message): string {
  const at = message.location;
  return at ? `${at.file.replace(/^edge:/, "")}:${at.line}:${at.column}: ${message.text}` : message.text;
}

/**
 * Checks a multi-module version: module names and types, UTF-8 ES and text
 * modules, valid Wasm, JSON source maps named after an ES module, every ES
 * module parsing, every import resolving within the version, and a main
 * module with a default export. 400 `EDGE_INVALID_SCRIPT` names the module
 * (and line:column, 0-based column as esbuild prints it) otherwise.
 */
export async function validateModules(modules: VersionModules): Promise<void> {
  checkName(modules.main);
  if (modules.modules.length > MAX_MODULES) {
    throw invalid(`A version may hold at most ${MAX_MODULES} modules`);
  }
  const kinds = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const module of modules.modules) {
    checkName(module.name);
    if (kinds.has(module.name)) throw invalid(`Two modules are named '${module.name}'`);
    kinds.set(module.name, module.type);
    if (module.type === "esm") sources.set(module.name, utf8(module));
    if (module.type === "text") utf8(module);
    if (module.type === "wasm" && !wasm.validate(module.content)) {
      throw invalid(`Module '${module.name}' is not a valid WebAssembly module`);
    }
  }
  const main = modules.main;
  if (kinds.get(main) !== "esm")
    throw invalid(`The main module '${main}' must be one of the ES modules (type "esm")`);
  for (const module of modules.modules) {
    if (module.type !== "sourcemap") continue;
    const target = module.name.endsWith(".map") ? module.name.slice(0, -4) : "";
    if (kinds.get(target) !== "esm") {
      throw invalid(
        `Source map '${module.name}' must be named after an ES module of the version ('<module>.map')`,
      );
    }
    try {
      JSON.parse(utf8(module));
    } catch {
      throw invalid(`Source map '${module.name}' is not valid JSON`);
    }
  }

  let result: Awaited<ReturnType<typeof build<{ metafile: true; write: false }>>>;
  try {
    result = await build({
      entryPoints: [main],
      bundle: true,
      write: false,
      format: "esm",
      metafile: true,
      platform: "neutral",
      logLevel: "silent",
      plugins: [inMemory(main, sources, kinds)],
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!Array.isArray(errors) || errors.length === 0) throw error;
    const shown = errors.slice(0, MAX_REPORTED).map(formatMessage);
    const more = errors.length > MAX_REPORTED ? ` (and ${errors.length - MAX_REPORTED} more)` : "";
    throw invalid(`Invalid module: ${shown.join("; ")}${more}`);
  }
  for (const [path, input] of Object.entries(result.metafile.inputs)) {
    if (input.format === "cjs") {
      throw invalid(`Module '${path.replace(/^edge:/, "")}' is CommonJS (module.exports); write ES modules`);
    }
  }
  const output = Object.values(result.metafile.outputs)[0];
  if (!output?.exports.includes("default")) {
    throw invalid(
      `The main module '${main}' has no default export; export the handler with \`export default { fetch }\``,
    );
  }
}
