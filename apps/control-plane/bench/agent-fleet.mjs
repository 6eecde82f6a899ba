// The parent side of the simulated fleet: forks the agent worker processes
// (sim-agents.mjs), waits for every agent's first push, and collects the
// workers' "every agent of mine ACKed version v" reports.
import { fork } from "node:child_process";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;

/**
 * Starts `count` agents over `workers` processes, agent g connecting to
 * `addresses[g % addresses.length]`; resolves once each got its first push.
 * Rejects with the worker's message if the ramp-up times out.
 */
export async function startAgents({
  addresses,
  count,
  workers: wantedWorkers,
  script,
  agentsPerChannel,
  batchSize,
  rampTimeoutMs,
  runId,
}) {
  const workers = Math.max(1, Math.min(wantedWorkers, count));
  const listeners = new Set();
  /** version -> workers whose agents all ACKed it, and the latest ACK time */
  const acked = new Map();
  const children = [];
  const readyCounts = new Array(workers).fill(0);
  let readyWorkers = 0;
  let rampMs = 0;
  let lastProgress = 0;
  /** Agent streams that ended (reason -> count); the agents reconnect. */
  const drops = new Map();
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  };
  const allReady = new Promise((resolve, reject) => {
    let firstIndex = 0;
    for (let w = 0; w < workers; w++) {
      const share = Math.floor(count / workers) + (w < count % workers ? 1 : 0);
      const options = {
        addresses,
        count: share,
        firstIndex,
        workerId: `${runId}-${w}`,
        script,
        agentsPerChannel,
        batchSize,
        rampTimeoutMs,
      };
      firstIndex += share;
      const child = fork(join(here, "sim-agents.mjs"), [JSON.stringify(options)], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.on("message", (message) => {
        if (message.type === "progress") {
          readyCounts[w] = message.ready;
          const total = readyCounts.reduce((a, b) => a + b, 0);
          // A progress line per ~10% of the fleet, so a slow ramp-up shows where it is.
          if (total - lastProgress >= count / 10 || total === count) {
            lastProgress = total;
            process.stderr.write(`  ${total}/${count} agents connected and pushed to\n`);
          }
        }
        if (message.type === "ready") {
          rampMs = Math.max(rampMs, message.rampMs);
          if (++readyWorkers === workers) resolve();
        }
        if (message.type === "dropped") {
          drops.set(message.reason, (drops.get(message.reason) ?? 0) + 1);
          if ([...drops.values()].reduce((a, b) => a + b, 0) === 1) {
            process.stderr.write(
              `  an agent stream ended (${message.reason}); agents reconnect, drops are counted\n`,
            );
          }
        }
        if (message.type === "ramp-failed") {
          stopAll();
          reject(new Error(`ramp-up failed: ${message.message}`));
        }
        if (message.type !== "acked") return;
        const entry = acked.get(message.version) ?? { workers: 0, last: 0n };
        entry.workers += 1;
        const at = BigInt(message.lastAckNs);
        if (at > entry.last) entry.last = at;
        acked.set(message.version, entry);
        for (const listener of [...listeners]) listener();
      });
      child.once("exit", (code) => {
        if (code !== 0 && readyWorkers < workers) {
          stopAll();
          reject(new Error(`agent worker ${w} exited (${code}) during the ramp-up`));
        }
      });
      children.push(child);
    }
  });
  await allReady;
  return {
    /** Slowest worker's ramp-up: first agent started -> its last agent's first push. */
    rampMs,
    workers,
    pids: children.map((child) => child.pid),
    /** Agent streams ended so far, by reason. */
    drops,
    /** Resolves with the time the last worker reported every agent ACKed `version` (reports may come first). */
    ackedEverywhere(version, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          const entry = acked.get(version);
          reject(
            new Error(
              `version ${version}: only ${entry?.workers ?? 0} of ${workers} agent workers saw it ACKed everywhere ` +
                `within ${timeoutMs} ms (agent streams ended so far: ${JSON.stringify(Object.fromEntries(drops))})`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          const entry = acked.get(version);
          if (entry === undefined || entry.workers < workers) return false;
          clearTimeout(timer);
          acked.delete(version);
          listeners.delete(check);
          resolve(entry.last);
          return true;
        };
        if (!check()) listeners.add(check);
      });
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once("exit", resolve);
              child.send({ type: "stop" });
              setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
            }),
        ),
      );
    },
  };
}
