import { readFile } from "node:fs/promises";
import { basename, dirname, extname, relative, resolve, sep } from "node:path";
import { build, type Message, type Plugin } from "esbuild";
import { CliError, EXIT } from "./errors.js";

/** A module of a multi-module upload, as the control plane's JSON envelope takes it. */
export interface UploadModule {
  name: string;
  type: "esm" | "text" | "data" | "wasm" | "sourcemap";
  content: Uint8Array;
}

export interface WorkerBundle {
  /** The entry module's name (`<entry>.js`). */
  main: string;
  /** The bundle, its source map, and the files imported as text, data or Wasm modules. */
  modules: UploadModule[];
}

/**
 * Files imported as modules of their own rather than bundled, by extension (as
 * wrangler's default rules): Wasm as a WebAssembly.Module, text as a string,
 * `.bin` as an ArrayBuffer.
 */
const ATTACHED: ReadonlyArray<readonly [RegExp, UploadModule["type"]]> = [
  [/\.wasm(\?module)?$/, "wasm"],
  [/\.(txt|html|sql)$/, "text"],
  [/\.bin$/, "data"],
];

const MAX_REPORTED = 3;

/** The module name an attached file gets: its path from the entry's folder (outside it: `_/` + its name). */
function attachedName(file: string, root: string): string {
  const path = relative(root, file).split(sep).join("/");
  return path.startsWith("../") || path === "" ? `_/${basename(file)}` : path;
}

function attach(root: string, found: Map<string, { file: string; type: UploadModule["type"] }>): Plugin {
  return {
    name: "edge-attached-modules",
    setup(b) {
      for (const [filter, type] of ATTACHED) {
        b.onResolve({ filter }, (args) => {
          const file = resolve(args.resolveDir, args.path.replace(/\?module$/, ""));
          let name = attachedName(file, root);
          // Two files outside the entry's folder may share a base name.
          for (let n = 2; found.has(name) && found.get(name)?.file !== file; n++) {
            name = `_/${n}/${basename(file)}`;
          }
          found.set(name, { file, type });
          // The bundle (the main module, at the root) imports it by its module name.
          return { path: `./${name}`, external: true };
        });
      }
    },
  };
}

function formatMessage(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column + 1}: ${message.text}` : message.text;
}

/**
 * Bundles a Worker's entry and everything it imports from `node_modules` into
 * one ES module the way wrangler does (esbuild; platform neutral with the
 * `workerd`, `worker` and `browser` conditions; es2022; not minified) with an
 * external source map (sources relative to the entry's folder, contents left
 * out), plus the files it imports as Wasm, text or data modules.
 */
export async function bundleWorker(entryPath: string): Promise<WorkerBundle> {
  const root = dirname(entryPath);
  const main = `${basename(entryPath, extname(entryPath))}.js`;
  const found = new Map<string, { file: string; type: UploadModule["type"] }>();
  let outputs: Array<{ path: string; contents: Uint8Array }>;
  try {
    const result = await build({
      entryPoints: [entryPath],
      absWorkingDir: root,
      outfile: resolve(root, main),
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      target: "es2022",
      minify: false,
      sourcemap: "external",
      sourcesContent: false,
      logLevel: "silent",
      plugins: [attach(root, found)],
    });
    outputs = result.outputFiles;
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!Array.isArray(errors) || errors.length === 0) throw error;
    const shown = errors.slice(0, MAX_REPORTED).map(formatMessage);
    const more = errors.length > MAX_REPORTED ? ` (and ${errors.length - MAX_REPORTED} more)` : "";
    throw new CliError(
      "EDGE_INVALID_SCRIPT",
      `cannot bundle ${entryPath}: ${shown.join("; ")}${more}`,
      EXIT.REJECTED,
    );
  }
  const code = outputs.find((file) => file.path.endsWith(".js"));
  const map = outputs.find((file) => file.path.endsWith(".js.map"));
  if (code === undefined) throw new CliError("EDGE_CLI_BUNDLE", "esbuild produced no bundle", EXIT.FAILURE);
  const modules: UploadModule[] = [{ name: main, type: "esm", content: code.contents }];
  if (map !== undefined) modules.push({ name: `${main}.map`, type: "sourcemap", content: map.contents });
  for (const [name, { file, type }] of found) {
    modules.push({ name, type, content: new Uint8Array(await readFile(file)) });
  }
  return { main, modules };
}
