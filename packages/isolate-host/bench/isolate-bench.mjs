// Benchmark for @edge/isolate-host (run after a build: `npm run bench -w @edge/isolate-host`).
// Prints figures only; nothing here asserts on time.
//  1. run() latency, a fresh isolate per request, vs a baseline that reuses one
//     isolate and context for every request (baseline implemented here only),
//     for a hello-world script and a URL+JSON script.
//  2. Memory held per live isolate, with the runtime and a script loaded.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createIsolateRunner } from "../dist/index.js";

const require = createRequire(import.meta.url);
const ivm = require("isolated-vm");

const SCRIPTS = {
  "hello-world": {
    source: `export default { fetch: () => new Response("Hello, world!") }`,
    request: { method: "GET", url: "https://bench.example/hello", headers: [["accept", "*/*"]], body: null },
  },
  "url+json": {
    source: `export default { async fetch(request, env) {
      const url = new URL(request.url);
      const body = await request.json();
      return Response.json({ path: url.pathname, q: url.searchParams.get("q"), doubled: body.items.map((i) => i * 2), name: env.NAME });
    } }`,
    request: {
      method: "POST",
      url: "https://bench.example/api/items?q=search",
      headers: [["content-type", "application/json"]],
      body: new TextEncoder().encode(JSON.stringify({ items: [1, 2, 3, 4, 5] })),
    },
  },
};
const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };
const VARS = { NAME: "bench" };
const FRESH_RUNS = Number(process.env.BENCH_FRESH_RUNS ?? 300);
const REUSED_RUNS = Number(process.env.BENCH_REUSED_RUNS ?? 3000);
const LIVE_ISOLATES = 50;
const GAP_MS = 10;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sequential runs; `gapMs` of idle time before each, as traffic that is not back-to-back leaves. */
async function time(runs, once, gapMs = 0) {
  const samples = [];
  for (let i = 0; i < Math.max(10, runs / 10); i++) await once(); // warm-up
  for (let i = 0; i < runs; i++) {
    if (gapMs > 0) await sleep(gapMs);
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return summary(samples);
}

/**
 * Baseline: one isolate and context, runtime and script loaded once, then only
 * the runtime's dispatch() per request: what a reuse-isolates design would pay.
 */
async function reusedIsolate(source) {
  const isolate = new ivm.Isolate({ memoryLimit: LIMITS.memoryMb });
  const context = await isolate.createContext();
  const runtime = readFileSync(new URL("../runtime-dist/runtime.js", import.meta.url), "utf8");
  await (await isolate.compileScript(runtime)).run(context);
  const init = await context.global.get("__edgeInit", { reference: true });
  const entry = await init.apply(undefined, [new ivm.Callback(() => true)], { result: { reference: true } });
  const dispatch = await entry.get("dispatch", { reference: true });
  const module = await isolate.compileModule(source);
  await module.instantiate(context, () => {
    throw new Error("no imports");
  });
  await module.evaluate();
  return {
    isolate,
    async run(request) {
      const outcome = await dispatch.apply(
        undefined,
        [
          module.namespace.derefInto(),
          new ivm.ExternalCopy({ ...request, url: new URL(request.url).href }).copyInto({ release: true }),
          new ivm.ExternalCopy(VARS).copyInto({ release: true }),
        ],
        { result: { promise: true, copy: true } },
      );
      if (outcome.ok !== true) throw new Error(`baseline run failed: ${outcome.message}`);
      return outcome;
    },
  };
}

/** Each mode: a fresh isolate per run (with and without pre-built isolates), then the reuse baseline. */
async function latency(pooled, unpooled) {
  const rows = [];
  for (const [name, { source, request }] of Object.entries(SCRIPTS)) {
    const script = { name, version: 1, source, vars: VARS, limits: LIMITS };
    const [withPool, withoutPool] = [await pooled.prepare(script), await unpooled.prepare(script)];
    const check = await pooled.run(withPool, request);
    if (check.response.status !== 200) throw new Error(`${name} answered ${check.response.status}`);
    let cpu = 0;
    let runs = 0;
    const modes = [];
    modes.push([
      `fresh, pre-built, ${GAP_MS} ms apart`,
      await time(FRESH_RUNS, () => pooled.run(withPool, request), GAP_MS),
    ]);
    modes.push([
      "fresh, pre-built, back-to-back",
      await time(FRESH_RUNS, async () => {
        cpu += (await pooled.run(withPool, request)).cpuMs;
        runs++;
      }),
    ]);
    modes.push([
      "fresh, built per request",
      await time(FRESH_RUNS, () => unpooled.run(withoutPool, request)),
    ]);
    const baseline = await reusedIsolate(source);
    modes.push(["reused isolate (baseline)", await time(REUSED_RUNS, () => baseline.run(request))]);
    baseline.isolate.dispose();
    rows.push({ name, modes, cpuPerRun: cpu / runs });
  }
  return rows;
}

async function throughput(runner, concurrency, total) {
  const { source, request } = SCRIPTS["hello-world"];
  const prepared = await runner.prepare({ name: "tp", version: 1, source, vars: VARS, limits: LIMITS });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await runner.run(prepared, request);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** Holds LIVE_ISOLATES isolates as run() builds them (runtime + script loaded) and measures them. */
async function memoryPerIsolate() {
  const runtime = readFileSync(new URL("../runtime-dist/runtime.js", import.meta.url), "utf8");
  const { source } = SCRIPTS["url+json"];
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const held = [];
  for (let i = 0; i < LIVE_ISOLATES; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: LIMITS.memoryMb });
    const context = await isolate.createContext();
    await (await isolate.compileScript(runtime)).run(context);
    const module = await isolate.compileModule(source);
    await module.instantiate(context, () => {
      throw new Error("no imports");
    });
    await module.evaluate();
    await context.eval(`new URL("https://x.example/?a=1").searchParams.get("a")`); // what url+json loads
    held.push(isolate);
  }
  const rssAfter = process.memoryUsage().rss;
  let used = 0;
  let total = 0;
  let external = 0;
  for (const isolate of held) {
    const stats = await isolate.getHeapStatistics();
    used += stats.used_heap_size;
    total += stats.total_heap_size;
    external += stats.externally_allocated_size;
  }
  for (const isolate of held) isolate.dispose();
  const n = held.length;
  return { used: used / n, total: total / n, external: external / n, rss: (rssAfter - rssBefore) / n };
}

const ms = (v) => `${v.toFixed(3)} ms`;
const mb = (v) => `${(v / 1024 / 1024).toFixed(2)} MB`;
const cell = (v) => v.padEnd(12);

const pooled = createIsolateRunner({ maxLimits: LIMITS });
const unpooled = createIsolateRunner({ maxLimits: LIMITS, warmIsolates: 0 });
try {
  console.log(
    `node ${process.version}, isolated-vm ${require("isolated-vm/package.json").version}, ${FRESH_RUNS} runs per fresh mode, ${REUSED_RUNS} for the baseline\n`,
  );
  console.log(
    `${"script".padEnd(12)} ${"mode".padEnd(34)} ${cell("p50")} ${cell("p99")} ${cell("mean")} p50 / baseline`,
  );
  for (const { name, modes, cpuPerRun } of await latency(pooled, unpooled)) {
    const baseline = modes.at(-1)[1];
    for (const [i, [mode, s]] of modes.entries()) {
      const ratio = s === baseline ? "" : `${(s.p50 / baseline.p50).toFixed(1)}x`;
      console.log(
        `${(i === 0 ? name : "").padEnd(12)} ${mode.padEnd(34)} ${cell(ms(s.p50))} ${cell(ms(s.p99))} ${cell(ms(s.mean))} ${ratio}`,
      );
    }
    console.log(`${"".padEnd(12)} script CPU per fresh run (isolate.cpuTime): ${ms(cpuPerRun)}\n`);
  }
  for (const concurrency of [1, 4]) {
    const rps = await throughput(pooled, concurrency, 400);
    console.log(`throughput, hello-world, ${concurrency} concurrent: ${rps.toFixed(0)} runs/s`);
  }
  const memory = await memoryPerIsolate();
  console.log(
    `\nmemory per live isolate (${LIVE_ISOLATES} held, runtime + url+json script loaded, URL used):`,
  );
  console.log(
    `  V8 heap used ${mb(memory.used)}, heap total ${mb(memory.total)}, external ${mb(memory.external)}, process RSS growth ${mb(memory.rss)}`,
  );
} finally {
  pooled.dispose();
  unpooled.dispose();
}
