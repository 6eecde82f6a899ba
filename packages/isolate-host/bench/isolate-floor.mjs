// The floor under any fresh-isolate-per-request design on isolated-vm: how many
// `new ivm.Isolate()` + `createContext()` + `dispose()` a second this machine does
// with nothing run in them, on one thread per core. Used by both benchmarks.
import { createRequire } from "node:module";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);

function spin(ms) {
  const ivm = require("isolated-vm");
  const once = () => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    isolate.createContextSync();
    isolate.dispose();
  };
  for (let i = 0; i < 20; i++) once();
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    once();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

/** Isolates (with a context) created and disposed per second, summed over `threads` worker threads. */
export async function isolateFloor(threads, ms = 2_000) {
  const rates = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: { ms } });
          worker.once("message", resolve);
          worker.once("error", reject);
        }),
    ),
  );
  return rates.reduce((sum, rate) => sum + rate, 0);
}

if (!isMainThread && workerData?.ms !== undefined) parentPort.postMessage(spin(workerData.ms));
