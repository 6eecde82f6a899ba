#!/usr/bin/env node
// npm run bench:propagation
//
// Time from the API's 201 to "every node has ACKed" for 10, 100 and 1000
// connected agents: a real control-plane process (dist/main.js, SQLite store
// in a temp dir) and lightweight simulated agents speaking the real edge.v1
// protocol from a few worker processes (sim-agents.mjs). Each deploy waits
// for the previous one to be ACKed everywhere, then for the push batching
// window (EDGE_PUSH_BATCH_MS, 100 ms) to pass, so every figure is one
// propagation rather than a wait for the next batch. Prints p50/p99 and the
// control plane's CPU time and memory. A figure, not a test: nothing here
// passes or fails.
//
// Knobs: BENCH_AGENTS=10,100,1000  BENCH_DEPLOYS=40  BENCH_WORKERS=2  BENCH_GAP_MS=150
import { fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const here = new URL(".", import.meta.url).pathname;
const CONTROL_PLANE_MAIN = join(here, "../dist/main.js");
const TOKEN = "bench-admin-token";
const SCRIPT = "bench";
const COUNTS = (process.env.BENCH_AGENTS ?? "10,100,1000").split(",").map(Number);
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 40);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** Pause between deploys: longer than the control plane's batching window. */
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 150);
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

const nowNs = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** CPU time (ms) and memory (MB) of a process, from /proc. */
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs, rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

async function startControlPlane(dir) {
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the control plane there.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, CONTROL_PLANE_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      EDGE_ADMIN_TOKEN: TOKEN,
      EDGE_STORE: `sqlite:${join(dir, "cp.db")}`,
      EDGE_API_PORT: "0",
      EDGE_GRPC_ADDRESS: "127.0.0.1:0",
      EDGE_LOG_LEVEL: "info",
      EDGE_CONTROL_PLANE_ID: "bench",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      try {
        const record = JSON.parse(line);
        if (record.msg === "control plane listening") resolve(record);
      } catch {
        // not a log record
      }
    });
    child.once("exit", (code) => reject(new Error(`control plane exited (${code})`)));
  });
  child.stdout.resume();
  return { child, api: `http://127.0.0.1:${ready.httpPort}`, grpc: `127.0.0.1:${ready.grpcPort}` };
}

async function deploy(api, n) {
  const res = await fetch(`${api}/v1/scripts/${SCRIPT}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/javascript" },
    body: `export default { fetch() { return new Response("deploy ${n}"); } };\n// ${"x".repeat(1024)}`,
  });
  const at = nowNs();
  if (res.status !== 201) throw new Error(`deploy answered ${res.status}: ${await res.text()}`);
  return { version: (await res.json()).version, at };
}

/** Starts `count` agents over a few processes; resolves once each got its first push. */
async function startAgents(grpc, count) {
  const workers = Math.max(1, Math.min(WORKERS, count));
  const listeners = new Set();
  /** version -> workers whose agents all ACKed it, and the latest ACK time */
  const acked = new Map();
  const children = [];
  let readyWorkers = 0;
  const allReady = new Promise((resolve, reject) => {
    for (let w = 0; w < workers; w++) {
      const share = Math.floor(count / workers) + (w < count % workers ? 1 : 0);
      const child = fork(join(here, "sim-agents.mjs"), [grpc, String(share), `${count}-${w}`, SCRIPT], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.on("message", (message) => {
        if (message.type === "ready" && ++readyWorkers === workers) resolve();
        if (message.type !== "acked") return;
        const entry = acked.get(message.version) ?? { workers: 0, last: 0n };
        entry.workers += 1;
        const at = BigInt(message.lastAckNs);
        if (at > entry.last) entry.last = at;
        acked.set(message.version, entry);
        for (const listener of [...listeners]) listener();
      });
      child.once("exit", (code) => {
        if (code !== 0 && readyWorkers < workers) reject(new Error(`agent worker exited (${code})`));
      });
      children.push(child);
    }
  });
  await allReady;
  return {
    /** Resolves with the time the last worker reported every agent ACKed `version` (reports may come first). */
    ackedEverywhere(version) {
      return new Promise((resolve) => {
        const check = () => {
          const entry = acked.get(version);
          if (entry === undefined || entry.workers < workers) return false;
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
              child.once("exit", resolve);
              child.send({ type: "stop" });
              setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
            }),
        ),
      );
    },
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-propagation-"));
  const cp = await startControlPlane(dir);
  const rows = [];
  let n = 0;
  try {
    // The script exists before any agent connects: every run measures updates.
    await deploy(cp.api, n++);
    for (const count of COUNTS) {
      const agents = await startAgents(cp.grpc, count);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = usage(cp.child.pid);
      const started = nowNs();
      const fromRequest = [];
      const from201 = [];
      for (let i = 0; i < DEPLOYS; i++) {
        const sent = nowNs();
        // ACK reports are kept until asked for: the pushes may beat the 201 back.
        const { version, at } = await deploy(cp.api, n++);
        const lastAck = await agents.ackedEverywhere(version);
        fromRequest.push(ms(lastAck - sent));
        from201.push(Math.max(0, ms(lastAck - at)));
        await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      }
      const wallMs = ms(nowNs() - started);
      const after = usage(cp.child.pid);
      await agents.stop();
      from201.sort((x, y) => x - y);
      fromRequest.sort((x, y) => x - y);
      rows.push({
        agents: count,
        deploys: DEPLOYS,
        "201→all ACKed p50 ms": percentile(from201, 50).toFixed(1),
        "201→all ACKed p99 ms": percentile(from201, 99).toFixed(1),
        "request→all ACKed p50 ms": percentile(fromRequest, 50).toFixed(1),
        "request→all ACKed p99 ms": percentile(fromRequest, 99).toFixed(1),
        "cp CPU ms/deploy": ((after.cpuMs - before.cpuMs) / DEPLOYS).toFixed(1),
        "cp CPU % (incl. gaps)": (((after.cpuMs - before.cpuMs) / wallMs) * 100).toFixed(0),
        "cp RSS MB": after.rssMb.toFixed(0),
        "cp peak RSS MB": after.peakMb.toFixed(0),
      });
      process.stdout.write(`measured ${count} agents\n`);
    }
  } finally {
    cp.child.kill("SIGTERM");
    await new Promise((resolve) => cp.child.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nConfig propagation: API 201 -> every agent ACKed (${cpus().length} CPUs, ${WORKERS} agent processes, ` +
      `SQLite store; the 201 and the pushes race, so "201→" is clamped at 0)\n`,
  );
  console.table(rows);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
