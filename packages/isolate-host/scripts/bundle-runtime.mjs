// Bundles runtime/ (the code that runs inside every isolate) into classic
// scripts: runtime-dist/runtime.js, which every fresh isolate runs, and the
// parts loaded on first use (runtime-dist/lazy-*.js, see runtime/lazy.ts).
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

/**
 * While V8 builds a startup snapshot, SharedArrayBuffer and resizable
 * ArrayBuffer getters do not exist yet. webidl-conversions (under whatwg-url)
 * reads those getters when it loads but only calls them inside try/catch, so
 * a missing getter just means "not that kind of buffer", which URL and
 * URLSearchParams never take anyway. Make the reads tolerate absence.
 */
const snapshotSafeWebidl = {
  name: "snapshot-safe-webidl-conversions",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /webidl-conversions[\\/]lib[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      let patched = 0;
      const contents = source.replace(
        /Object\.getOwnPropertyDescriptor\((\w+)\.prototype, "(\w+)"\)\.get;/g,
        (_m, ctor, prop) => {
          patched++;
          const target = ctor === "SharedArrayBuffer" ? "(globalThis.SharedArrayBuffer ?? Object)" : ctor;
          return `Object.getOwnPropertyDescriptor(${target}.prototype, "${prop}")?.get;`;
        },
      );
      if (patched < 4)
        throw new Error(`webidl-conversions changed shape: patched ${patched} getter reads, expected >= 4`);
      return { contents, loader: "js" };
    });
  },
};

/**
 * tr46's 140 KB mapping table is JSON; as a JS literal V8 must parse and
 * materialise it as code, while JSON.parse of a string is several times
 * faster. It is paid each time a script first uses URL.
 */
const jsonViaParse = {
  name: "json-via-json-parse",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.json$/ }, async (args) => {
      const text = JSON.stringify(JSON.parse(await readFile(args.path, "utf8")));
      return { contents: `module.exports = JSON.parse(${JSON.stringify(text)});`, loader: "js" };
    });
  },
};

/**
 * whatwg-url's `require("tr46")` gets runtime/tr46-fast-path.ts, whose own
 * `require("tr46")` is resolved where whatwg-url would find it (tr46 is
 * whatwg-url's dependency, not ours).
 */
const tr46FastPath = {
  name: "tr46-fast-path",
  setup(pluginBuild) {
    const fastPath = `${root}runtime/tr46-fast-path.ts`;
    pluginBuild.onResolve({ filter: /^tr46$/ }, async (args) => {
      if (/[\\/]whatwg-url[\\/]/.test(args.importer)) return { path: fastPath };
      if (args.importer !== fastPath) return undefined;
      const whatwgUrlDir = dirname(require.resolve("whatwg-url/package.json"));
      return pluginBuild.resolve("tr46", { resolveDir: whatwgUrlDir, kind: args.kind });
    });
  },
};

await mkdir(`${root}runtime-dist`, { recursive: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "neutral",
  mainFields: ["main", "module"],
  target: "es2022",
  // whatwg-url constructs a TextEncoder/TextDecoder when it loads, before the
  // runtime installs its globals: resolve those free names to our module.
  inject: ["runtime/text-encoding.ts"],
  plugins: [snapshotSafeWebidl, jsonViaParse, tr46FastPath],
  logLevel: "warning",
  write: false,
};

/** The core every isolate runs: a classic script. */
const core = await build({ ...common, entryPoints: ["runtime/index.ts"], format: "iife" });
await writeFile(`${root}runtime-dist/runtime.js`, core.outputFiles[0].text);

/**
 * A lazily loaded part (runtime/lazy.ts): a script whose completion value is
 * its entry's exports, so the host hands them to the runtime without a global.
 */
const LAZY_GLOBAL = "__edgeLazyExports";
const lazyNames = (await readdir(`${root}runtime/lazy`))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3));
for (const name of lazyNames) {
  const lazy = await build({
    ...common,
    entryPoints: [`runtime/lazy/${name}.ts`],
    format: "iife",
    globalName: LAZY_GLOBAL,
  });
  const text = lazy.outputFiles[0].text;
  const declaration = `var ${LAZY_GLOBAL} = `;
  const at = text.indexOf(declaration);
  if (at < 0) throw new Error(`esbuild output for lazy part ${name} has no '${declaration}'`);
  await writeFile(
    `${root}runtime-dist/lazy-${name}.js`,
    text.slice(0, at) + text.slice(at + declaration.length),
  );
}
