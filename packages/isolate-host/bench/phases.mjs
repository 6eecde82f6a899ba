// Where a fresh isolate's time goes, phase by phase, on the calling thread: the same steps
// run() takes for a request (see src/warm-isolate.ts and src/isolate-session.ts), timed one by
// one over many isolates, for isolates started from the runtime's snapshot and for isolates that
// load the runtime from its code cache. Prints means in ms; nothing here asserts on time.
import { createRequire } from "node:module";
import { RuntimeCode } from "../dist/runtime-code.js";
import { LIMITS, SCRIPTS } from "./scripts.mjs";

const require = createRequire(import.meta.url);
const ivm = require("isolated-vm");

const PHASES = [
  "new Isolate",
  "createContext",
  "runtime install",
  "__edgeInit",
  "module",
  "fetch()",
  "dispose",
];

async function phasesOf(runtime, source, runs) {
  const totals = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const noop = new ivm.Callback(() => true);
  // The script's code cache, as prepare() makes it.
  const first = runtime.newIsolate({ memoryLimit: LIMITS.memoryMb });
  const cached = (await first.compileModule(source, { filename: "bench.js", produceCachedData: true }))
    .cachedData;
  first.dispose();
  const request = { method: "GET", url: "https://bench.example/hello", headers: [], body: null };
  for (let i = 0; i < runs + 10; i++) {
    const mark = [];
    const lap = () => mark.push(performance.now());
    lap();
    const isolate = runtime.newIsolate({ memoryLimit: LIMITS.memoryMb });
    lap();
    const context = await isolate.createContext();
    lap();
    await runtime.install(isolate, context);
    lap();
    const init = await context.global.get("__edgeInit", { reference: true });
    const entry = await init.apply(undefined, [noop, noop, noop, runtime.loader(isolate, context)], {
      result: { reference: true },
    });
    lap();
    const module = await isolate.compileModule(source, { filename: "bench.js", cachedData: cached });
    await module.instantiate(context, () => {
      throw new Error("no imports");
    });
    await module.evaluate();
    lap();
    const dispatch = await entry.get("dispatch", { reference: true });
    await dispatch.apply(
      undefined,
      [
        module.namespace.derefInto(),
        new ivm.ExternalCopy(request).copyInto(),
        new ivm.ExternalCopy({}).copyInto(),
      ],
      { result: { promise: true, copy: true } },
    );
    lap();
    isolate.dispose();
    lap();
    if (i < 10) continue; // warm-up
    for (const [j, phase] of PHASES.entries()) totals[phase] += mark[j + 1] - mark[j];
  }
  return Object.fromEntries(PHASES.map((p) => [p, totals[p] / runs]));
}

export async function printPhases(logger, runs = 200) {
  const snapshot = await RuntimeCode.create(logger, true);
  const code = await RuntimeCode.create(logger, false);
  const source = SCRIPTS["hello-world"].source;
  const rows = [
    ["runtime snapshot", await phasesOf(snapshot, source, runs)],
    ["runtime code cache", await phasesOf(code, source, runs)],
  ];
  snapshot.release();
  code.release();
  console.log(`(4) where a fresh hello-world isolate's time goes (mean of ${runs}, calling thread, ms)`);
  console.log(`  ${"".padEnd(20)} ${PHASES.map((p) => p.padStart(15)).join(" ")} ${"total".padStart(9)}`);
  for (const [name, phases] of rows) {
    const total = Object.values(phases).reduce((a, b) => a + b, 0);
    console.log(
      `  ${name.padEnd(20)} ${PHASES.map((p) => phases[p].toFixed(3).padStart(15)).join(" ")} ${total.toFixed(3).padStart(9)}`,
    );
  }
}
