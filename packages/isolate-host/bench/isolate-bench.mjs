// Benchmark for @edge/isolate-host (run after a build: `npm run bench -w @edge/isolate-host`).
// Prints figures only; nothing here asserts on time.
//  1. run() latency with a fresh isolate per request vs a baseline that reuses one isolate
//     for every request (implemented here only), for hello-world and url+json+crypto.
//  2. run() throughput, on the calling thread and with worker threads on every core.
//  3. Memory per live in-flight isolate, and how many fit in 1 GiB.
import { createRequire } from "node:module";
import { availableParallelism, loadavg } from "node:os";
import { fetchPolicy } from "../dist/fetch/fetch-options.js";
import { HostBridge } from "../dist/host-bridge.js";
import { createIsolateRunner } from "../dist/index.js";
import { LogCollector } from "../dist/log-collector.js";
import { RuntimeCode } from "../dist/runtime-code.js";
import { isolateFloor } from "./isolate-floor.mjs";
import { printPhases } from "./phases.mjs";
import { LIMITS, SCRIPTS, VARS } from "./scripts.mjs";

const require = createRequire(import.meta.url);
const ivm = require("isolated-vm");

const FRESH_RUNS = Number(process.env.BENCH_FRESH_RUNS ?? 300);
const REUSED_RUNS = Number(process.env.BENCH_REUSED_RUNS ?? 3000);
const THROUGHPUT_RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 1500);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 200);
const GAP_MS = 10;
const CORES = availableParallelism();

const runtimeCode = await RuntimeCode.create((await import("pino")).pino({ level: "silent" }));

const hostRequest = ({ method, path, headers, body }) => ({
  method,
  url: `https://bench.example${path}`,
  headers,
  body,
});

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
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
  const isolate = runtimeCode.newIsolate({ memoryLimit: LIMITS.memoryMb });
  const context = await isolate.createContext();
  await runtimeCode.install(isolate, context);
  const bridge = new HostBridge(new LogCollector(), fetchPolicy(), {
    complete() {},
    fire() {},
    charge() {},
    waiting() {},
  });
  const init = await context.global.get("__edgeInit", { reference: true });
  const entry = await init.apply(
    undefined,
    [
      new ivm.Callback((level, message) => bridge.log(level, message)),
      new ivm.Callback((op, a, b, c) => bridge.call(op, a, b, c)),
      new ivm.Callback((op, a, b) => bridge.post(op, a, b), { ignored: true }),
      runtimeCode.loader(isolate, context),
    ],
    { result: { reference: true } },
  );
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

async function latency(pooled, unpooled) {
  const rows = [];
  for (const [name, { source, request: shape }] of Object.entries(SCRIPTS)) {
    const request = hostRequest(shape);
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

async function throughput(runner, concurrency, total, name) {
  const { source, request: shape } = SCRIPTS[name];
  const request = hostRequest(shape);
  const prepared = await runner.prepare({ name, version: 1, source, vars: VARS, limits: LIMITS });
  // A run killed by a limit on a loaded machine is counted, not fatal: the figure is completed runs/s.
  let failed = 0;
  const once = () =>
    runner.run(prepared, request).catch(() => {
      failed++;
    });
  for (let i = 0; i < 50; i++) await once(); // warm-up
  failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await once();
    }),
  );
  if (failed > 0) console.log(`  (${name}: ${failed} of ${total} runs hit a limit and are not counted)`);
  return (total - failed) / ((performance.now() - started) / 1000);
}

/** IN_FLIGHT requests held open at once (each waits on a timer after its work), measured while all are live. */
async function inFlightMemory() {
  // Memory, not speed, is measured here: with hundreds of isolates starting at once on two cores,
  // the CPU time V8 charges each one inflates, so the CPU limit is raised out of the way.
  const limits = { ...LIMITS, cpuMs: 1_000 };
  const runner = createIsolateRunner({ maxLimits: limits, warmIsolates: 0 });
  const { request: shape } = SCRIPTS["url+json+crypto"];
  const source = SCRIPTS["url+json+crypto"].source.replace(
    "return Response.json(",
    "await new Promise((resolve) => setTimeout(resolve, 3000)); return Response.json(",
  );
  const prepared = await runner.prepare({ name: "held", version: 1, source, vars: VARS, limits });
  const request = hostRequest(shape);
  await runner.run(prepared, { ...request }).catch(() => {});
  globalThis.gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  const pending = [];
  for (let i = 0; i < IN_FLIGHT; i++) {
    pending.push(runner.run(prepared, request));
    if (i % 10 === 9) await sleep(1); // let isolates get built and their scripts reach the timer
  }
  await sleep(1000);
  const during = process.memoryUsage().rss;
  const results = await Promise.all(pending);
  runner.dispose();
  if (results.some((r) => r.response.status !== 200)) throw new Error("an in-flight request failed");
  return (during - before) / IN_FLIGHT;
}

/** V8's own figures for isolates as run() builds them (runtime + script loaded, URL and crypto used). */
async function heapPerIsolate() {
  const held = [];
  const noop = new ivm.Callback(() => true);
  for (let i = 0; i < 50; i++) {
    const isolate = runtimeCode.newIsolate({ memoryLimit: LIMITS.memoryMb });
    const context = await isolate.createContext();
    await runtimeCode.install(isolate, context);
    const init = await context.global.get("__edgeInit", { reference: true });
    const bridge = new HostBridge(new LogCollector(), fetchPolicy(), {
      complete() {},
      fire() {},
      charge() {},
      waiting() {},
    });
    const call = new ivm.Callback((op, a, b, c) => bridge.call(op, a, b, c));
    await init.apply(undefined, [noop, call, noop, runtimeCode.loader(isolate, context)]);
    await context.eval(
      `new URL("https://x.example/?a=1").searchParams.get("a"); new TextEncoder().encode(JSON.stringify({ a: [1] }))`,
    );
    held.push(isolate);
  }
  let used = 0;
  let total = 0;
  for (const isolate of held) {
    const stats = await isolate.getHeapStatistics();
    used += stats.used_heap_size;
    total += stats.total_heap_size;
  }
  for (const isolate of held) isolate.dispose();
  return { used: used / held.length, total: total / held.length };
}

const ms = (v) => `${v.toFixed(3)} ms`;
const mb = (v) => `${(v / 1024 / 1024).toFixed(2)} MB`;
const cell = (v) => v.padEnd(12);

const pooled = createIsolateRunner({ maxLimits: LIMITS });
const unpooled = createIsolateRunner({ maxLimits: LIMITS, warmIsolates: 0 });
const threaded = createIsolateRunner({ maxLimits: LIMITS, threads: CORES });
try {
  console.log(
    `node ${process.version}, isolated-vm ${require("isolated-vm/package.json").version}, ${CORES} cores, load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}; ${FRESH_RUNS} runs per fresh mode, ${REUSED_RUNS} for the baseline\n`,
  );
  console.log("(1) run() latency, fresh isolate per request vs one reused isolate");
  console.log(
    `${"script".padEnd(16)} ${"mode".padEnd(34)} ${cell("p50")} ${cell("p99")} ${cell("mean")} added p50 / p99`,
  );
  for (const { name, modes, cpuPerRun } of await latency(pooled, unpooled)) {
    const baseline = modes.at(-1)[1];
    for (const [i, [mode, s]] of modes.entries()) {
      const added = s === baseline ? "" : `+${ms(s.p50 - baseline.p50)} / +${ms(s.p99 - baseline.p99)}`;
      console.log(
        `${(i === 0 ? name : "").padEnd(16)} ${mode.padEnd(34)} ${cell(ms(s.p50))} ${cell(ms(s.p99))} ${cell(ms(s.mean))} ${added}`,
      );
    }
    console.log(`${"".padEnd(16)} script CPU per fresh run (isolate.cpuTime): ${ms(cpuPerRun)}\n`);
  }
  console.log("(2) run() throughput, fresh isolate per request");
  const floor = await isolateFloor(CORES);
  console.log(
    `  floor: bare new Isolate() + createContext() + dispose(), nothing run: ${floor.toFixed(0)}/s on ${CORES} threads`,
  );
  for (const name of Object.keys(SCRIPTS)) {
    const local = await throughput(pooled, 4, THROUGHPUT_RUNS, name);
    const threads = await throughput(threaded, 4 * CORES, THROUGHPUT_RUNS, name);
    console.log(
      `  ${name.padEnd(16)} calling thread: ${local.toFixed(0)} runs/s   ${CORES} worker threads: ${threads.toFixed(0)} runs/s`,
    );
  }
  const perIsolate = await inFlightMemory();
  const heap = await heapPerIsolate();
  console.log(
    `\n(3) memory: ${IN_FLIGHT} url+json+crypto requests in flight at once, each in its own isolate`,
  );
  console.log(
    `  process RSS per in-flight isolate ${mb(perIsolate)} -> ${Math.floor((1024 * 1024 * 1024) / perIsolate)} in-flight isolates per GiB`,
  );
  console.log(
    `  V8 heap per isolate (runtime loaded, URL used): used ${mb(heap.used)}, total ${mb(heap.total)}`,
  );
  console.log("");
  await printPhases((await import("pino")).pino({ level: "silent" }));
} finally {
  pooled.dispose();
  unpooled.dispose();
  threaded.dispose();
}
