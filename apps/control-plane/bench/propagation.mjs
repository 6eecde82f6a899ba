#!/usr/bin/env node
// npm run bench:propagation
//
// Time from the API's 201 to "every node has ACKed" for 10, 100 and 1000
// connected agents: real control-plane processes (dist/main.js) and
// lightweight simulated agents speaking the real edge.v1 protocol from a few
// worker processes (sim-agents.mjs, agent-fleet.mjs).
//
// One replica on SQLite (the default), or BENCH_REPLICAS replicas on one real
// redis-server (BENCH_STORE=redis), each with its own API and gRPC port, the
// agents split evenly across them (agent g -> replica g % replicas). Deploys go
// to replica 0's API; the others learn of them through the store's change feed.
// Every size runs on fresh replicas (and a fresh Redis). Each deploy waits for
// the previous one to be ACKed everywhere, then for the push batching window
// (EDGE_PUSH_BATCH_MS, 100 ms) to pass, so every figure is one propagation
// rather than a wait for the next batch. Prints p50/p99 and each replica's CPU
// time and memory. A figure, not a test: nothing here passes or fails.
//
// Knobs: BENCH_AGENTS=10,100,1000  BENCH_DEPLOYS=40  BENCH_REPLICAS=1  BENCH_STORE=sqlite|redis
//        BENCH_WORKERS=2 (agent processes)  BENCH_AGENTS_PER_CHANNEL=1  BENCH_GAP_MS=150
//        BENCH_RAMP_BATCH=250 (agents per worker connecting at once)  BENCH_RAMP_TIMEOUT_MS=300000
//        BENCH_ACK_TIMEOUT_MS=60000  BENCH_CPU_PROF=<dir> (profile the replicas; prints top functions)
//        BENCH_RESULT_FILE=<path> (also write the rows as JSON, for bench:scale)
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer } from "@edge/control-plane/testing";
import { startAgents } from "./agent-fleet.mjs";
import { startControlPlane, stopControlPlane, usage } from "./control-planes.mjs";
import { topSelfTime } from "./cpu-profile-top.mjs";

const TOKEN = "bench-admin-token";
const SCRIPT = "bench";
const env = process.env;
const COUNTS = (env.BENCH_AGENTS ?? "10,100,1000").split(",").map(Number);
const DEPLOYS = Number(env.BENCH_DEPLOYS ?? 40);
const REPLICAS = Number(env.BENCH_REPLICAS ?? 1);
const STORE = env.BENCH_STORE ?? (REPLICAS > 1 ? "redis" : "sqlite");
const WORKERS = Number(env.BENCH_WORKERS ?? 2);
const AGENTS_PER_CHANNEL = Math.max(1, Number(env.BENCH_AGENTS_PER_CHANNEL ?? 1));
/** Pause between deploys: longer than the control plane's batching window. */
const GAP_MS = Number(env.BENCH_GAP_MS ?? 150);
const RAMP_BATCH = Number(env.BENCH_RAMP_BATCH ?? 250);
const RAMP_TIMEOUT_MS = Number(env.BENCH_RAMP_TIMEOUT_MS ?? 300_000);
const ACK_TIMEOUT_MS = Number(env.BENCH_ACK_TIMEOUT_MS ?? 60_000);
const PROFILE_DIR = env.BENCH_CPU_PROF || null;

if (STORE !== "sqlite" && STORE !== "redis") throw new Error(`BENCH_STORE=${STORE}: sqlite or redis`);
if (STORE === "sqlite" && REPLICAS !== 1) throw new Error("BENCH_REPLICAS > 1 needs BENCH_STORE=redis");

const nowNs = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;
const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
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

/** Fresh replicas on a fresh store; `stop()` ends them (and Redis) and removes the temp dir. */
async function startReplicas(runDir) {
  const redis = STORE === "redis" ? await startRedisServer() : null;
  const store = redis?.url ?? `sqlite:${join(runDir, "cp.db")}`;
  const replicas = [];
  try {
    for (let i = 0; i < REPLICAS; i++) {
      replicas.push(
        await startControlPlane({ id: `bench-${i}`, store, token: TOKEN, profileDir: PROFILE_DIR }),
      );
    }
  } catch (error) {
    await Promise.all(replicas.map(stopControlPlane));
    await redis?.stop();
    throw error;
  }
  let stopped = null;
  return {
    replicas,
    stop() {
      stopped ??= Promise.all(replicas.map(stopControlPlane)).then(() => redis?.stop());
      return stopped;
    },
  };
}

/** Top self-time functions of each replica's profile over the deploy phase. */
function profileReport(replicas, window, count) {
  const files = readdirSync(PROFILE_DIR).filter((name) => name.endsWith(".cpuprofile"));
  const lines = [];
  for (const cp of replicas) {
    const file = files.find((name) => name.split(".").includes(String(cp.child.pid)));
    if (file === undefined) {
      lines.push(`  ${cp.id}: no profile written (pid ${cp.child.pid})`);
      continue;
    }
    const { rows, inclusive, totalMs, idleMs } = topSelfTime(join(PROFILE_DIR, file), { top: 15, ...window });
    lines.push(
      `  ${cp.id} (${count} agents, deploy phase): ${totalMs.toFixed(0)} ms busy, ${idleMs.toFixed(0)} ms idle — ${file}`,
    );
    for (const [title, list] of [
      ["self time", rows],
      ["inclusive time, workspace functions", inclusive],
    ]) {
      lines.push(`   ${title}`);
      for (const row of list) {
        lines.push(
          `    ${row.selfMs.toFixed(0).padStart(6)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.name}`,
        );
      }
    }
  }
  return lines.join("\n");
}

async function measure(count, runDir) {
  const cluster = await startReplicas(runDir);
  const { replicas } = cluster;
  let agents = null;
  try {
    let n = 0;
    // The script exists before any agent connects: every run measures updates.
    await deploy(replicas[0].api, n++);
    process.stderr.write(
      `${count} agents -> ${REPLICAS} replica(s) on ${STORE}, ${WORKERS} agent processes, ` +
        `batches of ${RAMP_BATCH} per process (load ${load()})\n`,
    );
    agents = await startAgents({
      addresses: replicas.map((cp) => cp.grpc),
      count,
      workers: WORKERS,
      script: SCRIPT,
      agentsPerChannel: AGENTS_PER_CHANNEL,
      batchSize: RAMP_BATCH,
      rampTimeoutMs: RAMP_TIMEOUT_MS,
      runId: String(count),
    });
    const { rampMs } = agents;
    // Let the connect burst's follow-up work (node states shared through the store) settle,
    // then measure the replicas' idle cost (heartbeats, keepalives, node states) for as long.
    const settleMs = 500 + Math.min(5_000, count / 2);
    await sleep(settleMs);
    const idleFrom = replicas.map((cp) => usage(cp.child.pid));
    await sleep(settleMs);
    const before = replicas.map((cp) => usage(cp.child.pid));
    const agentsBefore = agents.pids.map(usage);
    const started = nowNs();
    const loadBefore = load();
    const fromRequest = [];
    const from201 = [];
    for (let i = 0; i < DEPLOYS; i++) {
      const sent = nowNs();
      // ACK reports are kept until asked for: the pushes may beat the 201 back.
      const { version, at } = await deploy(replicas[0].api, n++);
      const lastAck = await agents.ackedEverywhere(version, ACK_TIMEOUT_MS);
      fromRequest.push(ms(lastAck - sent));
      from201.push(Math.max(0, ms(lastAck - at)));
      await sleep(GAP_MS);
    }
    const ended = nowNs();
    const wallMs = ms(ended - started);
    const after = replicas.map((cp) => usage(cp.child.pid));
    const agentsCpuMs = agents.pids
      .map(usage)
      .reduce((sum, u, i) => sum + u.cpuMs - agentsBefore[i].cpuMs, 0);
    const loadAfter = load();
    const dropCount = (drops) => [...drops.values()].reduce((a, b) => a + b, 0);
    const agentDrops = Object.fromEntries(agents.drops);
    const dropsTotal = dropCount(agents.drops);
    const cpStreamEnds = replicas.map((cp) => Object.fromEntries(cp.streamEnds));
    await agents.stop();
    agents = null;
    await cluster.stop();
    from201.sort((x, y) => x - y);
    fromRequest.sort((x, y) => x - y);
    const row = {
      agents: count,
      replicas: REPLICAS,
      store: STORE,
      deploys: DEPLOYS,
      rampMs,
      p50: percentile(from201, 50),
      p99: percentile(from201, 99),
      requestP50: percentile(fromRequest, 50),
      requestP99: percentile(fromRequest, 99),
      perReplica: replicas.map((cp, i) => ({
        id: cp.id,
        cpuMsPerDeploy: (after[i].cpuMs - before[i].cpuMs) / DEPLOYS,
        cpuPercent: ((after[i].cpuMs - before[i].cpuMs) / wallMs) * 100,
        idleCpuPercent: ((before[i].cpuMs - idleFrom[i].cpuMs) / settleMs) * 100,
        rssMb: after[i].rssMb,
        peakMb: after[i].peakMb,
      })),
      agentsCpuMsPerDeploy: agentsCpuMs / DEPLOYS,
      /** Agent streams that ended (ramp-up and deploys; they reconnected), by reason, and the replicas' view. */
      drops: dropsTotal,
      agentDrops,
      cpStreamEnds,
      load: { before: loadBefore, after: loadAfter },
    };
    if (PROFILE_DIR) row.profile = profileReport(replicas, { fromNs: started, toNs: ended }, count);
    return row;
  } finally {
    await agents?.stop();
    await cluster.stop();
  }
}

async function main() {
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const rows = [];
  for (const count of COUNTS) {
    const runDir = mkdtempSync(join(tmpdir(), "edge-bench-propagation-"));
    try {
      rows.push(await measure(count, runDir));
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
    process.stderr.write(`measured ${count} agents (load ${load()})\n`);
  }
  if (env.BENCH_RESULT_FILE) writeFileSync(env.BENCH_RESULT_FILE, JSON.stringify(rows, null, 2));
  const channels =
    AGENTS_PER_CHANNEL === 1
      ? "a gRPC channel (socket) per agent"
      : `${AGENTS_PER_CHANNEL} agents per gRPC channel (each its own Connect stream and node id)`;
  process.stdout.write(
    `\nConfig propagation: API 201 -> every agent ACKed (${cpus().length} CPUs, ${REPLICAS} replica(s) on ${STORE}, ` +
      `${WORKERS} agent processes, ${channels}; deploys to replica 0; the 201 and the pushes race, so "201→" is clamped at 0)\n`,
  );
  console.table(
    rows.map((row) => ({
      agents: row.agents,
      deploys: row.deploys,
      "ramp-up s": (row.rampMs / 1000).toFixed(1),
      "201→all ACKed p50 ms": row.p50.toFixed(1),
      "201→all ACKed p99 ms": row.p99.toFixed(1),
      "request→all ACKed p50 ms": row.requestP50.toFixed(1),
      "request→all ACKed p99 ms": row.requestP99.toFixed(1),
      "agents CPU ms/deploy": row.agentsCpuMsPerDeploy.toFixed(0),
      "stream drops": row.drops,
      "load before/after": `${row.load.before.split(" ")[0]}/${row.load.after.split(" ")[0]}`,
    })),
  );
  process.stdout.write(
    "Per replica (CPU over the deploy phase, % including the gaps between deploys; idle: same fleet, no deploys)\n",
  );
  console.table(
    rows.flatMap((row) =>
      row.perReplica.map((r) => ({
        agents: row.agents,
        replica: r.id,
        "CPU ms/deploy": r.cpuMsPerDeploy.toFixed(1),
        "CPU %": r.cpuPercent.toFixed(0),
        "idle CPU %": r.idleCpuPercent.toFixed(0),
        "RSS MB": r.rssMb.toFixed(0),
        "peak RSS MB": r.peakMb.toFixed(0),
      })),
    ),
  );
  for (const row of rows) {
    if (row.drops === 0) continue;
    process.stdout.write(
      `${row.agents} agents: agent streams ended ${JSON.stringify(row.agentDrops)}; ` +
        `replicas saw ${JSON.stringify(row.cpStreamEnds)}\n`,
    );
  }
  for (const row of rows)
    if (row.profile) process.stdout.write(`\nCPU profile, top self time:\n${row.profile}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
