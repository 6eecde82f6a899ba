// Builds the console's static files into web-dist/: one JavaScript bundle (esbuild, minified),
// the page, the stylesheet and the world map data (TopoJSON from the world-atlas package), so
// the console works with no network beyond the control plane. Prints the bundle's gzipped size.
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}web-dist/`;
const require = createRequire(import.meta.url);

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [`${root}web/src/main.ts`],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outfile: `${out}app.js`,
  legalComments: "none",
  logLevel: "warning",
});
await copyFile(`${root}web/index.html`, `${out}index.html`);
// uPlot's own stylesheet first, ours after it.
const css = [
  await readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  await readFile(`${root}web/app.css`, "utf8"),
];
await writeFile(`${out}app.css`, css.join("\n"));
await copyFile(require.resolve("world-atlas/countries-110m.json"), `${out}world-110m.json`);
const js = await readFile(`${out}app.js`);
process.stdout.write(
  `console: app.js ${(js.length / 1024).toFixed(0)} KB, ${(gzipSync(js).length / 1024).toFixed(0)} KB gzipped\n`,
);
