#!/usr/bin/env node
// node apps/control-plane/bench/cpu-profile-summary.mjs <file.cpuprofile> [top=25] [from=<ms>] [to=<ms>]
//
// Summarises a V8 CPU profile (node --cpu-prof, e.g. the scale bench's BENCH_CPU_PROF): self time by
// function and by file (a package under node_modules counts as one file), and total (inclusive)
// time of the project's own functions. `from`/`to` keep only samples in that window (ms from the
// profile's start), e.g. the deploy burst without start-up. A figure, not a test.
import { readFileSync } from "node:fs";

const [file, topArg, ...rest] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write("usage: cpu-profile-summary.mjs <file.cpuprofile> [top] [from=<ms>] [to=<ms>]\n");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const window = Object.fromEntries(rest.map((a) => a.split("=")).map(([k, v]) => [k, Number(v)]));
const profile = JSON.parse(readFileSync(file, "utf8"));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** `pkg` for node_modules/<pkg>/..., `src/x.js` for the project's files, `node:x` for built-ins. */
function place(url) {
  if (url === "") return "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (url.startsWith("node:")) return url;
  const own = /\/(apps|packages)\/([^/]+)\/dist\/(.*)$/.exec(url);
  if (own) return `${own[2]}/${own[3]}`;
  return url.replace(/^file:\/\//, "");
}
const label = (n) =>
  `${n.callFrame.functionName || "(anonymous)"}  ${place(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const self = new Map();
const files = new Map();
const inclusive = new Map();
let t = 0;
let kept = 0;
const start = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000;
  t += dt;
  const at = t;
  if (window.from !== undefined && at < window.from) continue;
  if (window.to !== undefined && at > window.to) continue;
  kept += dt;
  const node = byId.get(profile.samples[i]);
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const where = place(node.callFrame.url);
  files.set(where, (files.get(where) ?? 0) + dt);
  // Inclusive time, each function counted once per sample however deep it recurses.
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
}

const row = (ms) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / kept).toFixed(1).padStart(5)}%`;
const print = (title, map, filter = () => true) => {
  console.log(`\n${title}`);
  const entries = [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of entries.slice(0, top)) console.log(`${row(v)}  ${k}`);
};
console.log(
  `${file}: ${kept.toFixed(0)} ms sampled (profile ${((profile.endTime - start) / 1000).toFixed(0)} ms)`,
);
print("self time by function", self);
print("self time by file or package", files);
print("total time of the project's functions", inclusive, (k) => /control-plane\/|protocol\//.test(k));
