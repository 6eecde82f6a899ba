// What each part of the in-isolate runtime costs a fresh isolate (run after a build:
// `node --no-node-snapshot bench/runtime-parts.mjs`). Prints figures only.
//  1. The core bundle: size, and installing it in a new isolate from its code cache.
//  2. Each lazily loaded part: size, and loading it into an isolate on first touch.
//  3. A request's added wall time, fresh isolate each, for a script's first use of each family,
//     over hello world: median of RUNS requests.
//  4. 1,000 URL parses in a fresh isolate: the host-backed URL against whatwg-url run in the isolate.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { pino } from "pino";
import { createIsolateRunner } from "../dist/index.js";
import { LAZY_PARTS, readRuntimeBundle } from "../dist/runtime-bundle.js";
import { RuntimeCode } from "../dist/runtime-code.js";

const require = createRequire(import.meta.url);
const ivm = require("isolated-vm");
const RUNS = Number(process.env.BENCH_PARTS_RUNS ?? 40);
const root = fileURLToPath(new URL("..", import.meta.url));

const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
const kb = (chars) => `${(chars / 1024).toFixed(0)} KB`;

const runtime = await RuntimeCode.create(pino({ level: "silent" }));
const bundle = readRuntimeBundle();

async function freshIsolate() {
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  const context = await isolate.createContext();
  return { isolate, context };
}

// 1 and 2.
const install = [];
const loads = Object.fromEntries(LAZY_PARTS.map((part) => [part, []]));
for (let i = 0; i < RUNS; i++) {
  const { isolate, context } = await freshIsolate();
  const started = performance.now();
  await runtime.install(isolate, context);
  install.push(performance.now() - started);
  let last = 0;
  await context.global.set(
    "__load",
    runtime.loader(isolate, context, (ms) => {
      last = ms;
    }),
  );
  for (const part of LAZY_PARTS) {
    context.evalSync(`__load(${JSON.stringify(part)})`);
    loads[part].push(last);
  }
  isolate.dispose();
}
process.stdout.write(
  `runtime core: ${kb(bundle.core.length)}, installed in a fresh isolate in ${median(install).toFixed(2)} ms (median of ${RUNS})\n`,
);
for (const part of LAZY_PARTS) {
  process.stdout.write(
    `  lazy part ${part}: ${kb(bundle.lazy[part].length)}, loaded on first touch in ${median(loads[part]).toFixed(2)} ms\n`,
  );
}

// 3. First use of each family, fresh isolate per request, over hello world.
const FAMILIES = {
  "hello world": `return new Response("hi");`,
  "URL (1 parse + searchParams)": `const u = new URL(request.url); return new Response(u.searchParams.get("x"));`,
  "URL (1,000 parses)": `let n = 0; for (let i = 0; i < 1000; i++) n += new URL("/p/" + i + "?q=" + i, "https://example.com/").pathname.length; return new Response(String(n));`,
  "TextDecoder windows-1252": `return new Response(new TextDecoder("latin1").decode(new Uint8Array([0x80, 0x41])));`,
  "TextDecoder shift_jis": `return new Response(new TextDecoder("shift_jis").decode(new Uint8Array([0x82, 0xa0])));`,
  TextDecoderStream: `return new Response(new Response("abc").body.pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream()));`,
  "CompressionStream gzip (1 KB)": `return new Response(new Response("x".repeat(1024)).body.pipeThrough(new CompressionStream("gzip")));`,
  URLPattern: `return new Response(String(new URLPattern({ pathname: "/a/:id" }).test("https://e.com/a/1")));`,
  structuredClone: `return Response.json(structuredClone({ a: [1, new Map([[1, 2]])], d: new Date(0) }));`,
  "Event/EventTarget": `const t = new EventTarget(); let n = 0; t.addEventListener("x", () => n++); t.dispatchEvent(new CustomEvent("x")); return new Response(String(n));`,
};
const LIMITS = { cpuMs: 2_000, memoryMb: 128, wallMs: 10_000 };
const runner = createIsolateRunner({ warmIsolates: 0, maxLimits: LIMITS });
const walls = {};
let version = 0;
for (const [name, body] of Object.entries(FAMILIES)) {
  const prepared = await runner.prepare({
    name: "parts",
    version: ++version,
    source: `export default { async fetch(request) { ${body} } }`,
    vars: {},
    limits: LIMITS,
  });
  const request = { method: "GET", url: "https://example.com/?x=1", headers: [], body: null };
  for (let i = 0; i < 5; i++) await runner.run(prepared, request);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await runner.run(prepared, request);
    samples.push(performance.now() - started);
  }
  walls[name] = median(samples);
}
process.stdout.write(
  `request wall time, fresh isolate each (median of ${RUNS}), and what the family adds over hello world:\n`,
);
for (const [name, ms] of Object.entries(walls)) {
  const added = name === "hello world" ? "" : `  (+${(ms - walls["hello world"]).toFixed(2)} ms)`;
  process.stdout.write(`  ${name.padEnd(32)} ${ms.toFixed(2)} ms${added}\n`);
}
runner.dispose();

// 4. The same 1,000 parses with whatwg-url (the reference implementation) bundled into the isolate.
const whatwg = await build({
  absWorkingDir: root,
  stdin: { contents: `globalThis.WhatwgURL = require("whatwg-url").URL;`, resolveDir: root },
  bundle: true,
  format: "iife",
  platform: "neutral",
  mainFields: ["main", "module"],
  inject: ["runtime/text-encoding.ts"],
  write: false,
  logLevel: "silent",
});
const inIsolate = [];
for (let i = 0; i < Math.min(RUNS, 10); i++) {
  const { isolate, context } = await freshIsolate();
  await context.eval(whatwg.outputFiles[0].text);
  const started = performance.now();
  await context.eval(
    `let n = 0; for (let i = 0; i < 1000; i++) n += new WhatwgURL("/p/" + i + "?q=" + i, "https://example.com/").pathname.length;`,
  );
  inIsolate.push(performance.now() - started);
  isolate.dispose();
}
process.stdout.write(
  `1,000 URL parses in a fresh isolate: host-backed (Node's ada) ${(walls["URL (1,000 parses)"] - walls["hello world"]).toFixed(2)} ms over hello world; whatwg-url in the isolate ${median(inIsolate).toFixed(2)} ms (parsing alone, bundle loaded before)\n`,
);
