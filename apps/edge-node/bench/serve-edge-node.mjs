// Child process of http-bench.mjs: a real edge node (HTTP front, script registry, isolate runner with
// one worker thread per core) serving the bench scripts, fed directly through its ScriptRegistry
// (no control plane: the agent's connection attempts fail quietly in the background).
// Prints "port <n>" once listening; stops on SIGTERM.
import { mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeNode, loadConfig } from "@edge/edge-node";
import { createIsolateRunner } from "@edge/isolate-host";
import { pino } from "pino";
import { LIMITS, SCRIPTS, VARS } from "../../../packages/isolate-host/bench/scripts.mjs";

const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
const config = loadConfig({
  EDGE_POP: "bench",
  EDGE_HTTP_PORT: "0",
  EDGE_CONTROL_PLANE: "127.0.0.1:9",
  EDGE_LOG_LEVEL: "silent",
  // A fresh cache: nothing restored from an earlier run may replace the bench scripts.
  EDGE_CACHE_DIR: mkdtempSync(join(tmpdir(), "edge-bench-")),
  EDGE_MAX_CPU_MS: String(LIMITS.cpuMs),
  EDGE_MAX_MEMORY_MB: String(LIMITS.memoryMb),
  ...(process.env.EDGE_ISOLATE_CONCURRENCY
    ? { EDGE_ISOLATE_CONCURRENCY: process.env.EDGE_ISOLATE_CONCURRENCY }
    : {}),
});
const logger = pino({ level: "silent" });
const runner = createIsolateRunner({
  maxLimits: config.maxLimits,
  logger,
  threads,
  admission: config.admission,
});
const node = createEdgeNode(config, { logger, runner });
const upserts = Object.entries(SCRIPTS).map(([name, { source }], i) => ({
  name: name.replace(/[^a-z0-9-]/g, "-"),
  version: 1,
  sha256: `bench-${i}`,
  source,
  vars: VARS,
  limits: LIMITS,
  createdAtMs: Date.now(),
  kvBindings: {},
}));
const rejected = await node.registry.apply({ configVersion: 1, full: true, upserts, removals: [] });
if (rejected.length > 0) throw new Error(`bench scripts rejected: ${JSON.stringify(rejected)}`);
const { httpPort } = await node.start();
process.stdout.write(`port ${httpPort} threads ${threads}\n`);
process.once("SIGTERM", () => {
  void node.stop().finally(() => {
    runner.dispose();
    process.exit(0);
  });
});
