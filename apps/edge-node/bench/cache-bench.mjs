// Cache API figures on one node's real store: a script's `caches.default.match()` hit and
// `put()` of a 1 KiB response, each figure the mean of a batch of 200 sequential operations
// in one request; p50/p99 over 30 batches. Run: npm run bench:cache (from the repository root).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIsolateRunner } from "@edge/isolate-host";
import { CacheStore } from "../dist/index.js";

const BATCHES = 30;
const dir = mkdtempSync(join(tmpdir(), "edge-cache-bench-"));
const store = new CacheStore(dir, { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 1024 * 1024 });
const limits = { cpuMs: 10_000, memoryMb: 128, wallMs: 60_000 };
const runner = createIsolateRunner({ cache: store, maxLimits: limits });

const source = `export default { async fetch(request) {
  const op = new URL(request.url).searchParams.get("op");
  const cache = caches.default;
  const body = "x".repeat(1024);
  const fresh = { "cache-control": "max-age=3600" };
  await cache.put("https://bench.test/hit", new Response(body, { headers: fresh }));
  const t0 = Date.now();
  for (let i = 0; i < 200; i++) {
    if (op === "match") await (await cache.match("https://bench.test/hit")).arrayBuffer();
    else await cache.put("https://bench.test/p" + i, new Response(body, { headers: fresh }));
  }
  return Response.json((Date.now() - t0) / 200);
} };`;

try {
  const prepared = await runner.prepare({ name: "bench", version: 1, source, vars: {}, limits });
  for (const op of ["match", "put"]) {
    const means = [];
    for (let b = 0; b < BATCHES; b++) {
      const result = await runner.run(prepared, {
        method: "GET",
        url: `https://bench.test/?op=${op}`,
        headers: [],
        body: null,
      });
      means.push(JSON.parse(new TextDecoder().decode(result.response.body)));
    }
    means.sort((a, b) => a - b);
    const at = (q) => means[Math.min(means.length - 1, Math.floor(q * means.length))].toFixed(3);
    process.stdout.write(`${op} (1 KiB): p50 ${at(0.5)} ms, p99 ${at(0.99)} ms\n`);
  }
} finally {
  runner.dispose();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
