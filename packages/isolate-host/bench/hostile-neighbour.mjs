/**
 * How long a neighbour script waits while another tenant's requests only
 * wait: 2 × cores + 2 requests sleeping on 60 s timers and as many awaiting a
 * promise that never settles are in flight; prints the neighbour's latency
 * (50 sequential requests) before and during. Run after `npm run build`:
 *   node --no-node-snapshot bench/hostile-neighbour.mjs
 */
import { availableParallelism } from "node:os";
import { createIsolateRunner } from "../dist/index.js";

const runner = createIsolateRunner({ threads: availableParallelism() });
const limits = { cpuMs: 1000, memoryMb: 64, wallMs: 10_000 };
const prepare = (name, source) => runner.prepare({ name, version: 1, vars: {}, limits, source });
const sleeper = await prepare(
  "sleeper",
  `export default { async fetch() { await new Promise((r) => setTimeout(r, 60000)); return new Response("late"); } }`,
);
const hang = await prepare("hang", `export default { async fetch() { await new Promise(() => {}); } }`);
const neighbour = await prepare("neighbour", `export default { fetch: () => new Response("ok") }`);
const request = { method: "GET", url: "https://bench.example/", headers: [], body: null };

async function latency(n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await runner.run(neighbour, request);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return `p50 ${times[n >> 1].toFixed(1)} ms, max ${times[n - 1].toFixed(1)} ms`;
}

await latency(20);
console.log(`neighbour alone: ${await latency(50)}`);
const abusive = 2 * availableParallelism() + 2;
const pending = [];
for (let i = 0; i < abusive; i++) {
  pending.push(runner.run(sleeper, request).catch((err) => err.code));
  pending.push(runner.run(hang, request).catch((err) => err.code));
}
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(
  `neighbour with ${abusive} sleeping + ${abusive} never-settling requests in flight: ${await latency(50)}`,
);
runner.dispose();
setTimeout(() => process.exit(0), 200);
