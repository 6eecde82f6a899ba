#!/usr/bin/env node
// Top self-time functions of a V8 CPU profile (node --cpu-prof), optionally
// only over a time window: the samples between two process.hrtime.bigint()
// readings (V8's profile clock and hrtime are both CLOCK_MONOTONIC on Linux).
//
//   node cpu-profile-top.mjs <file.cpuprofile> [top=15] [fromNs toNs]
import { readFileSync } from "node:fs";
import { basename } from "node:path";

/**
 * [{ name, selfMs, share }] sorted by self time, the window's busy (sampled, not idle) total
 * and its idle time, in ms.
 */
export function topSelfTime(file, { top = 15, fromNs = null, toNs = null } = {}) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
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
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : "";
    const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + weight);
    totalUs += weight;
  }
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
  return { rows, totalMs: totalUs / 1000, idleMs: idleUs / 1000 };
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
  const { rows, totalMs, idleMs } = topSelfTime(file, {
    top: Number(top ?? 15),
    fromNs: fromNs ?? null,
    toNs: toNs ?? null,
  });
  process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms busy, ${idleMs.toFixed(0)} ms idle\n`);
  for (const row of rows) {
    process.stdout.write(
      `  ${row.selfMs.toFixed(0).padStart(7)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.name}\n`,
    );
  }
}
