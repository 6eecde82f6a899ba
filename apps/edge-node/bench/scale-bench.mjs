#!/usr/bin/env node
// npm run bench:scale
//
// Scale figures with real processes (edge node and control plane dist/main.js):
//   1. node start -> first request served, with BENCH_SCRIPTS (10,000) small scripts in its config
//      cache (control plane down: the node serves from its cache alone);
//   2. node RSS holding them all idle, then with BENCH_HOT (100) of them prepared and served;
//   3. a cold script's first request (prepare + run), next to a warm script's request;
//   4. deploys/s accepted by the API (PUT /v1/scripts/<name>, BENCH_CONCURRENCY at once) on SQLite
//      and on Redis (a real redis-server), with one real edge node connected and ACKing;
//   5. a cold node (no cache) connecting to a control plane (SQLite) holding BENCH_SCRIPTS scripts:
//      connect -> its first push ACKed (a bulk push is verified and stored, not prepared).
//   6. deploy -> every agent ACKed for 1,000 and 10,000 simulated agents across 2 control-plane
//      replicas on one redis-server (the propagation bench, apps/control-plane/bench, as a child).
// A figure, not a test: nothing here passes or fails.
//
// Knobs: BENCH_SCRIPTS=10000  BENCH_HOT=100  BENCH_DEPLOYS=1000  BENCH_CONCURRENCY=32
//   BENCH_PARTS=node,cold-push,deploys,propagation   which parts run (default all; `deploys`
//                              alone iterates quickly; node = 1-3, cold-push = 5, propagation = 6)
//   BENCH_STORES=sqlite,redis  the stores the deploy part measures, in this order
//   BENCH_CPU_PROF=<dir>       start the deploy part's control plane and edge node with
//                              --cpu-prof (<dir>/cp-<store>.cpuprofile, node-<store>.cpuprofile;
//                              read them with apps/control-plane/bench/cpu-profile-top.mjs)
//   BENCH_PROPAGATION_AGENTS=1000,10000  BENCH_PROPAGATION_DEPLOYS=40
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openStore } from "@edge/control-plane";
import { startRedisServer } from "@edge/control-plane/testing";
import { ConfigCache } from "@edge/edge-node";
import { pino } from "pino";

const root = new URL("../../../", import.meta.url).pathname;
const TOKEN = "bench-admin-token";
const SCRIPTS = Number(process.env.BENCH_SCRIPTS ?? 10_000);
const HOT = Math.min(SCRIPTS, Number(process.env.BENCH_HOT ?? 100));
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PARTS = new Set(
  (process.env.BENCH_PARTS ?? "node,cold-push,deploys,propagation").split(",").map((p) => p.trim()),
);
const STORES = (process.env.BENCH_STORES ?? "sqlite,redis").split(",").map((s) => s.trim());
const CPU_PROF = process.env.BENCH_CPU_PROF;

const source = (i) =>
  `const greeting = ${JSON.stringify(`hello from app-${i}`)};
export default { fetch: (request) => new Response(greeting + " " + new URL(request.url).pathname) };`;

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}
const ms = (n) => `${n.toFixed(1)} ms`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function deadAddress() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

/** Node.js flags that write a CPU profile named `name` when BENCH_CPU_PROF is set. */
function cpuProf(name) {
  if (CPU_PROF === undefined) return [];
  return ["--cpu-prof", "--cpu-prof-dir", CPU_PROF, "--cpu-prof-name", `${name}.cpuprofile`];
}

function startProcess(name, main, env, readyMsg, nodeFlags = []) {
  const child = spawn(process.execPath, ["--no-node-snapshot", ...nodeFlags, join(root, main)], {
    env: { PATH: process.env.PATH ?? "", EDGE_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      try {
        const record = JSON.parse(line);
        if (record.msg === readyMsg) resolve({ child, record });
      } catch {
        // not a log record
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code})`)));
  });
}

/** A real edge node process of PoP `bench`, resolved once it logs `readyMsg`. */
function startEdgeNode(id, controlPlane, cacheDir, threads, readyMsg, nodeFlags) {
  const env = {
    EDGE_POP: "bench",
    EDGE_NODE_ID: id,
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: controlPlane,
    EDGE_CACHE_DIR: cacheDir,
    EDGE_ISOLATE_THREADS: threads,
  };
  return startProcess("edge node", "apps/edge-node/dist/main.js", env, readyMsg, nodeFlags);
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

function hit(base, host, path = "/") {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { host } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function timedHit(base, name) {
  const started = performance.now();
  const res = await hit(base, `${name}.localhost`);
  if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text}`);
  return performance.now() - started;
}

async function nodeFigures(dir) {
  const cacheDir = join(dir, "node-cache");
  const scripts = Array.from({ length: SCRIPTS }, (_, i) => {
    const text = source(i);
    return {
      name: `app-${i}`,
      version: 1,
      sha256: createHash("sha256").update(text).digest("hex"),
      source: text,
      vars: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
      createdAtMs: Date.now(),
      canary: undefined,
      mainModule: "",
      modules: [],
      kvBindings: {},
    };
  });
  const cache = new ConfigCache(cacheDir, pino({ level: "silent" }));
  await cache.save({ configVersion: 1, scripts, rejected: {} });
  await cache.flush();
  process.stderr.write(`${SCRIPTS} scripts written to a config cache; starting the node\n`);

  const started = performance.now();
  const node = await startEdgeNode("bench-1", await deadAddress(), cacheDir, "2", "edge node listening");
  const listening = performance.now() - started;
  const base = `http://127.0.0.1:${node.record.httpPort}`;
  try {
    const last = `app-${SCRIPTS - 1}`;
    await timedHit(base, last);
    const firstServed = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1_000));
    const idleRss = rssOf(node.child.pid);

    const cold = [];
    for (let i = 0; i < HOT; i++) cold.push(await timedHit(base, `app-${i}`));
    const warm = [];
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < HOT; i++) warm.push(await timedHit(base, `app-${i}`));
    await new Promise((r) => setTimeout(r, 1_000));
    const hotRss = rssOf(node.child.pid);
    cold.sort((a, b) => a - b);
    warm.sort((a, b) => a - b);
    return { listening, firstServed, idleRss, hotRss, cold, warm };
  } finally {
    await stop(node.child);
  }
}

function printNodeFigures(n) {
  console.log(`\nedge node holding ${SCRIPTS} cached scripts (2 isolate threads, control plane down)`);
  console.log(`  start -> listening            ${ms(n.listening)}`);
  console.log(`  start -> first request served ${ms(n.firstServed)}`);
  console.log(`  RSS, ${SCRIPTS} held, none prepared  ${mib(n.idleRss)}`);
  console.log(`  RSS, ${SCRIPTS} held, ${HOT} hot         ${mib(n.hotRss)}`);
  console.log(
    `  cold first request (prepare + run), ${HOT} scripts: p50 ${ms(percentile(n.cold, 50))}  p99 ${ms(percentile(n.cold, 99))}`,
  );
  console.log(
    `  warm request, same scripts:                 p50 ${ms(percentile(n.warm, 50))}  p99 ${ms(percentile(n.warm, 99))}`,
  );
}

/** What a descendant process is, by its command line. */
function processKind(cmdline) {
  if (cmdline.includes("control-plane/dist/main.js")) return "control plane";
  if (cmdline.includes("edge-node/dist/main.js")) return "edge node";
  if (cmdline.includes("redis-server")) return "redis-server";
  if (cmdline.includes("esbuild")) return "esbuild (control plane's)";
  return "other";
}

/** CPU time (user + system, ms) of this process and every descendant, summed by kind. */
function cpuByKind() {
  const tick = 10; // ms per clock tick (USER_HZ 100 on Linux)
  const own = process.cpuUsage();
  const byKind = new Map([["bench client", (own.user + own.system) / 1_000]]);
  const visit = (pid) => {
    let children = [];
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        children = children.concat(
          readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean),
        );
      }
    } catch {
      return; // exited meanwhile
    }
    for (const child of children) {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const kind = processKind(readFileSync(`/proc/${child}/cmdline`, "utf8").replaceAll("\0", " "));
        byKind.set(kind, (byKind.get(kind) ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick);
      } catch {
        continue;
      }
      visit(child);
    }
  };
  visit(process.pid);
  return byKind;
}

/** CPU ms per deploy, by process kind, between two `cpuByKind` readings. */
function cpuPerDeploy(before, after, deploys) {
  return [...after]
    .map(([kind, ms]) => [kind, (ms - (before.get(kind) ?? 0)) / deploys])
    .filter(([, perDeploy]) => perDeploy > 0)
    .sort((a, b) => b[1] - a[1]);
}

/** Milliseconds from the burst's start until the node ACKed `revision` (polled), or null after 30 s. */
async function nodeAcked(api, revision, elapsedMs) {
  const started = performance.now();
  while (performance.now() - started < 30_000) {
    const res = await fetch(`${api}/v1/nodes`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { nodes } = await res.json();
    if (nodes.length > 0 && nodes.every((n) => n.configVersion >= revision)) {
      return elapsedMs + performance.now() - started;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

async function deployFigures(dir, label, store) {
  const cp = await startProcess(
    "control plane",
    "apps/control-plane/dist/main.js",
    { EDGE_ADMIN_TOKEN: TOKEN, EDGE_STORE: store, EDGE_API_PORT: "0", EDGE_GRPC_ADDRESS: "127.0.0.1:0" },
    "control plane listening",
    cpuProf(`cp-${label}`),
  );
  const api = `http://127.0.0.1:${cp.record.httpPort}`;
  const node = await startEdgeNode(
    `deploy-${label}`,
    `127.0.0.1:${cp.record.grpcPort}`,
    join(dir, `deploy-node-${label}`),
    "1",
    "edge node listening",
    cpuProf(`node-${label}`),
  );
  try {
    const deploy = async (i) => {
      const res = await fetch(`${api}/v1/scripts/deploy-${i % 200}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ source: source(i) }),
      });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`deploy ${i}: ${res.status}`);
    };
    await deploy(0);
    let next = 1;
    const cpuBefore = cpuByKind();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DEPLOYS) await deploy(next++);
      }),
    );
    const seconds = (performance.now() - started) / 1_000;
    const cpu = cpuPerDeploy(cpuBefore, cpuByKind(), DEPLOYS - 1);
    // A fresh store: each PUT bumps the revision by one, so the last deploy is revision DEPLOYS.
    const ackedAfterMs = await nodeAcked(api, DEPLOYS, performance.now() - started);
    return { label, perSecond: (DEPLOYS - 1) / seconds, ackedAfterMs, cpu };
  } finally {
    await stop(node.child);
    await stop(cp.child);
  }
}

/** A node with no cache connects to a control plane whose SQLite store holds SCRIPTS scripts. */
async function coldPushFigures(dir) {
  const dbPath = join(dir, "cold-cp.db");
  // Seeded through the control plane's own store: deploying SCRIPTS through the API is slow.
  const store = await openStore(`sqlite:${dbPath}`);
  for (let i = 0; i < SCRIPTS; i++) {
    const text = source(i);
    await store.putVersion(`cold-${i}`, {
      sha256: createHash("sha256").update(text).digest("hex"),
      source: text,
      vars: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
    });
  }
  await store.close();
  const cp = await startProcess(
    "control plane",
    "apps/control-plane/dist/main.js",
    {
      EDGE_ADMIN_TOKEN: TOKEN,
      EDGE_STORE: `sqlite:${dbPath}`,
      EDGE_API_PORT: "0",
      EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    },
    "control plane listening",
  );
  const spawned = Date.now();
  const node = await startEdgeNode(
    "cold-1",
    `127.0.0.1:${cp.record.grpcPort}`,
    join(dir, "cold-node-cache"),
    "2",
    "connected to the control plane",
  );
  try {
    // The agent ACKs in the same tick as it logs "config applied"; a delta may come in several pushes.
    let applied = 0;
    const acked = await new Promise((resolve) => {
      createInterface({ input: node.child.stdout }).on("line", (line) => {
        const record = line.startsWith("{") ? JSON.parse(line) : null;
        if (record?.msg !== "config applied") return;
        applied += record.upserts;
        if (applied >= SCRIPTS) resolve(record.time);
      });
    });
    const res = await fetch(`http://127.0.0.1:${cp.record.httpPort}/v1/nodes`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const held = Object.keys((await res.json()).nodes?.[0]?.scripts ?? {}).length;
    return { connectToAck: acked - node.record.time, spawnToAck: acked - spawned, held };
  } finally {
    await stop(node.child);
    await stop(cp.child);
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-scale-"));
  try {
    if (PARTS.has("node")) printNodeFigures(await nodeFigures(dir));
    if (PARTS.has("cold-push")) {
      const cold = await coldPushFigures(dir);
      console.log(
        `\ncold node (no cache): connect -> first push of ${SCRIPTS} scripts ACKed  ${ms(cold.connectToAck)} (process start -> ACK ${ms(cold.spawnToAck)}; ${cold.held} held per GET /v1/nodes)`,
      );
    }
    if (PARTS.has("deploys")) {
      const rates = [];
      for (const store of STORES) {
        if (store === "sqlite")
          rates.push(await deployFigures(dir, "sqlite", `sqlite:${join(dir, "cp.db")}`));
        if (store === "redis") {
          const redis = await startRedisServer();
          try {
            rates.push(await deployFigures(dir, "redis", redis.url));
          } finally {
            await redis.stop();
          }
        }
      }
      console.log(
        `\ndeploys accepted by the API (${DEPLOYS} PUTs, ${CONCURRENCY} at once, one edge node ACKing)`,
      );
      for (const r of rates) {
        const acked =
          r.ackedAfterMs === null ? "not within 30 s" : `${ms(r.ackedAfterMs)} after the burst began`;
        console.log(
          `  ${r.label.padEnd(7)} ${r.perSecond.toFixed(0)} deploys/s; node ACKed the last one ${acked}`,
        );
        const cpu = r.cpu.map(([kind, perDeploy]) => `${kind} ${perDeploy.toFixed(2)}`).join(", ");
        console.log(`          CPU ms per deploy during the burst: ${cpu}`);
      }
      console.log(
        `  load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Part 6: the propagation bench in a child process (its own fd limit), read back as JSON. */
async function propagationFigures(dir) {
  const resultFile = join(dir, "propagation.json");
  const child = spawn(process.execPath, [join(root, "apps/control-plane/bench/propagation.mjs")], {
    env: {
      ...process.env,
      BENCH_REPLICAS: "2",
      BENCH_STORE: "redis",
      BENCH_AGENTS: process.env.BENCH_PROPAGATION_AGENTS ?? "1000,10000",
      BENCH_DEPLOYS: process.env.BENCH_PROPAGATION_DEPLOYS ?? "40",
      BENCH_RESULT_FILE: resultFile,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`propagation bench exited (${code})`);
  const rows = JSON.parse(readFileSync(resultFile, "utf8"));
  const figures = rows.map(
    (r) =>
      `${r.agents.toLocaleString("en")} agents p50 ${ms(r.p50)} p99 ${ms(r.p99)} (load ${r.load.after.split(" ")[0]})`,
  );
  console.log(
    `\ndeploy -> all ACKed, 2 replicas on Redis: ${figures.join("; ")} (goal p99 <= 1 s at 10,000)`,
  );
}

if (["node", "cold-push", "deploys"].some((part) => PARTS.has(part))) await main();
if (PARTS.has("propagation")) {
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-scale-propagation-"));
  try {
    await propagationFigures(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(0);
