// Bundles runtime/ (the code that runs inside every isolate) into classic
// scripts: runtime-dist/runtime.js, which every fresh isolate runs, and the
// parts loaded on first use (runtime-dist/lazy-*.js, see runtime/lazy.ts).
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Large tables shipped as JSON (the CJK encodings' indexes) would, as JS
 * literals, be parsed and materialised as code; JSON.parse of a string is
 * several times faster. It is paid each time a script first loads them.
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

await mkdir(`${root}runtime-dist`, { recursive: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "neutral",
  mainFields: ["main", "module"],
  target: "es2022",
  // Bundled libraries may construct a TextEncoder/TextDecoder when they load,
  // before the runtime installs its globals: resolve those free names to our module.
  inject: ["runtime/text-encoding.ts"],
  plugins: [jsonViaParse],
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
    // The crypto part takes the core's TextEncoder through its install() instead.
    inject: name === "crypto" ? [] : common.inject,
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
