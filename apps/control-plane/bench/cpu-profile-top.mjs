#!/usr/bin/env node
// Top self-time functions of a V8 CPU profile (node --cpu-prof), and the
// workspace's own functions by inclusive time (what they and their callees
// took), optionally only over a time window: the samples between two
// process.hrtime.bigint() readings (V8's profile clock and hrtime are both
// CLOCK_MONOTONIC on Linux). A sample counts while the thread is not idle,
// including time the OS gave to other processes (on a loaded machine "busy"
// exceeds CPU time; the shares still say where the thread was).
//
//   node cpu-profile-top.mjs <file.cpuprofile> [top=15] [fromNs toNs]
import { readFileSync } from "node:fs";
import { basename } from "node:path";

/**
 * `rows`: [{ name, selfMs, share }] sorted by self time; `inclusive`: the same
 * for the workspace's functions (apps/, packages/) by inclusive time; the
 * window's busy (sampled, not idle) total and its idle time, in ms.
 */
export function topSelfTime(file, { top = 15, fromNs = null, toNs = null } = {}) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map();
  const fromUs = fromNs === null ? Number.NEGATIVE_INFINITY : Number(BigInt(fromNs) / 1000n);
  const toUs = toNs === null ? Number.POSITIVE_INFINITY : Number(BigInt(toNs) / 1000n);
  const self = new Map();
  let totalUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    // A sample stands for the interval up to the next one; the first delta is the best estimate.
    const weight = profile.timeDeltas[i + 1] ?? delta;
    const frame = nodes.get(profile.samples[i])?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === "(idle)") {
      idleUs += weight;
      continue;
    }
    const name = frameName(frame);
    self.set(name, (self.get(name) ?? 0) + weight);
    totalUs += weight;
    // Each of our functions on the stack once (recursion counted once).
    const seen = new Set();
    for (let id = profile.samples[i]; id !== undefined; id = parents.get(id)) {
      const caller = nodes.get(id)?.callFrame;
      if (caller === undefined || !isOurs(caller.url)) continue;
      const key = frameName(caller);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + weight);
    }
  }
  const ranked = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
  return { rows: ranked(self), inclusive: ranked(inclusive), totalMs: totalUs / 1000, idleMs: idleUs / 1000 };
}

function frameName(frame) {
  const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : "";
  return `${frame.functionName || "(anonymous)"} ${where}`.trim();
}

function isOurs(url) {
  return /\/(apps|packages)\//.test(url) && !url.includes("node_modules/");
}

/** `.../node_modules/@grpc/grpc-js/build/src/x.js` -> `@grpc/grpc-js/.../x.js`; ours -> `control-plane/...`. */
function shortUrl(url) {
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("node_modules/");
  if (modules >= 0) return path.slice(modules + "node_modules/".length);
  const apps = path.search(/(apps|packages)\//);
  return apps >= 0 ? path.slice(apps) : basename(path);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, fromNs, toNs] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write("usage: cpu-profile-top.mjs <file.cpuprofile> [top] [fromNs toNs]\n");
    process.exit(2);
  }
  const { rows, inclusive, totalMs, idleMs } = topSelfTime(file, {
    top: Number(top ?? 15),
    fromNs: fromNs ?? null,
    toNs: toNs ?? null,
  });
  process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms busy, ${idleMs.toFixed(0)} ms idle\n`);
  const print = (title, list) => {
    process.stdout.write(`${title}\n`);
    for (const row of list) {
      process.stdout.write(
        `  ${row.selfMs.toFixed(0).padStart(7)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.name}\n`,
      );
    }
  };
  print("self time", rows);
  print("inclusive time, workspace functions", inclusive);
}
