import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";
import { answersPing, terminate } from "./redis-server.js";

/** A real `redis-sentinel` child process for tests, on 127.0.0.1, watching one primary. */
export interface RedisSentinel {
  port: number;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** The name the set's primary goes by (the `<master>` of a redis-sentinel:// spec). */
  masterName: string;
  primaryPort: number;
  /** Sentinels that must agree the primary is down. */
  quorum: number;
  /** How long the primary may be silent before it is considered down. Default 1000 ms. */
  downAfterMs?: number;
}

export async function startRedisSentinel(opts: SentinelOptions): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), "edge-sentinel-"));
  const port = await freePort();
  const config = join(dir, "sentinel.conf");
  // Sentinel rewrites its own config file as it learns the set: it must be writable.
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      "protected-mode no",
      `dir ${dir}`,
      `sentinel monitor ${opts.masterName} 127.0.0.1 ${opts.primaryPort} ${opts.quorum}`,
      `sentinel down-after-milliseconds ${opts.masterName} ${opts.downAfterMs ?? 1_000}`,
      `sentinel failover-timeout ${opts.masterName} 10000`,
      `sentinel parallel-syncs ${opts.masterName} 1`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("redis-sentinel", [config, "--loglevel", "warning"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  });
  const onExit = (): void => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      onExit();
      process.removeListener("exit", onExit);
      throw new Error(`redis-sentinel did not start on port ${port}: ${output}`);
    }
    await sleep(50);
  }
  return {
    port,
    stop: async () => {
      await terminate(child);
      process.removeListener("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
