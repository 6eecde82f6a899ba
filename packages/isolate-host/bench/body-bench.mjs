// What the body family (runtime/lazy/body.ts) adds to a request in a fresh isolate
// (run after a build: `npm run bench:body -w @edge/isolate-host`). Prints figures only.
//  - the same multipart POST read with text() (no body family) and with formData() (loads it),
//  - a urlencoded formData(), `new Blob([...]).text()`, and hello world for reference.
// Each request gets a fresh isolate built ahead of time, as in production.
import { createRequire } from "node:module";
import { pino } from "pino";
import { createIsolateRunner } from "../dist/index.js";
import { RuntimeCode } from "../dist/runtime-code.js";

const ivm = createRequire(import.meta.url)("isolated-vm");

const RUNS = Number(process.env.BENCH_BODY_RUNS ?? 300);
// CPU room: a loaded machine must not turn a figure into a failure (CPU is printed, not limited here).
const LIMITS = { cpuMs: 1000, memoryMb: 128, wallMs: 30_000 };
const encoder = new TextEncoder();
const multipart = encoder.encode(
  [
    "--b0undary\r\n",
    'Content-Disposition: form-data; name="title"\r\n\r\nhello\r\n',
    "--b0undary\r\n",
    'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n',
    "x".repeat(2048),
    "\r\n--b0undary--\r\n",
  ].join(""),
);
const post = (type, body) => ({
  method: "POST",
  url: "https://bench.example/",
  headers: [["content-type", type]],
  body,
});
const CASES = {
  "hello world": {
    source: `export default { fetch: () => new Response("Hello, world!") }`,
    request: { method: "GET", url: "https://bench.example/", headers: [], body: null },
  },
  "multipart POST, text()": {
    source: `export default { async fetch(request) { return new Response(String((await request.text()).length)); } }`,
    request: post("multipart/form-data; boundary=b0undary", multipart),
  },
  "multipart POST, formData()": {
    source: `export default { async fetch(request) { const form = await request.formData();
      return new Response(form.get("title") + (await form.get("upload").text()).length); } }`,
    request: post("multipart/form-data; boundary=b0undary", multipart),
  },
  "urlencoded POST, formData()": {
    source: `export default { async fetch(request) { return new Response((await request.formData()).get("a")); } }`,
    request: post("application/x-www-form-urlencoded", encoder.encode("a=1&b=h%C3%A9llo+world")),
  },
  'new Blob(["ab", "cd"]).text()': {
    source: `export default { async fetch() { return new Response(await new Blob(["ab", "cd"]).text()); } }`,
    request: { method: "GET", url: "https://bench.example/", headers: [], body: null },
  },
};

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const runner = createIsolateRunner();
console.log(`fresh isolate per request, ${RUNS} runs each, 5 ms apart (ms: p50 / p99 wall, p50 CPU)`);
for (const [name, { source, request }] of Object.entries(CASES)) {
  const prepared = await runner.prepare({ name: "bench", version: 1, source, vars: {}, limits: LIMITS });
  const wall = [];
  const cpu = [];
  for (let i = 0; i < RUNS + 20; i++) {
    await sleep(5);
    const started = performance.now();
    const result = await runner.run(prepared, request);
    if (result.response.status !== 200) throw new Error(`${name} answered ${result.response.status}`);
    if (i >= 20) {
      wall.push(performance.now() - started);
      cpu.push(result.cpuMs);
    }
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(32)} ${percentile(wall, 50).toFixed(3)} / ${percentile(wall, 99).toFixed(3)}   CPU ${percentile(cpu, 50).toFixed(3)}`,
  );
}
runner.dispose();

// The body family's own load (compile from its warm code cache + run), as the runtime's lazy loader times it.
const runtime = await RuntimeCode.create(pino({ level: "silent" }));
const loads = [];
for (let i = 0; i < Math.min(RUNS, 200) + 10; i++) {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = await isolate.createContext();
  await runtime.install(isolate, context);
  let ms = 0;
  const load = runtime.loader(isolate, context, (took) => {
    ms += took;
  });
  const init = await context.global.get("__edgeInit", { reference: true });
  await init.apply(undefined, [
    new ivm.Callback(() => true),
    new ivm.Callback(() => {}),
    new ivm.Callback(() => {}),
    load,
  ]);
  await context.eval("new Blob([]); undefined");
  if (i >= 10) loads.push(ms);
  isolate.dispose();
}
loads.sort((a, b) => a - b);
console.log(
  `lazy body part load (first Blob/FormData/formData() in an isolate): p50 ${percentile(loads, 50).toFixed(3)} ms, p99 ${percentile(loads, 99).toFixed(3)} ms`,
);
