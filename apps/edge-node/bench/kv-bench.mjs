#!/usr/bin/env node
// npm run bench:kv
//
// Workers KV figures with real processes: a control plane (dist/main.js,
// SQLite in a temp dir) and three edge nodes (dist/main.js, two isolate
// threads each), a namespace of 10,000 keys and a script bound to it.
// Prints:
//   1. local read latency from a script: `await env.KV.get()` in a loop at
//      one PoP. In-isolate clocks tick in whole milliseconds, so each sample
//      is the mean of a batch of 200 sequential reads; p50/p99 over batches.
//   2. write -> readable on all 3 PoPs: PUT through the API, then every PoP
//      is polled (a request to the script) until it answers the new value.
//   3. write -> received by 100 simulated agents (real edge.v1 streams, no
//      isolates, from 2 processes, each already holding the namespace): PUT
//      through the API until every agent got the KV sync carrying it.
//   4. replication bytes after a reconnect: an agent speaking edge.v1
//      subscribes with nothing (the whole namespace is sent), disconnects,
//      5 keys change, and it subscribes again with the version it holds.
// A figure, not a test: nothing here passes or fails.
//
// Knobs: BENCH_KEYS=10000  BENCH_WRITES=30  BENCH_BATCHES=25  BENCH_SIM_AGENTS=100
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ControlPlaneServiceClient, GRPC_CHANNEL_OPTIONS, KvSync } from "@edge/protocol";
import { credentials } from "@grpc/grpc-js";

const root = new URL("../../../", import.meta.url).pathname;
const TOKEN = "bench-admin-token";
const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);
const WRITES = Number(process.env.BENCH_WRITES ?? 30);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 25);
const POPS = ["fra", "iad", "sin"];
const SIM_AGENTS = Number(process.env.BENCH_SIM_AGENTS ?? 100);
const here = new URL(".", import.meta.url).pathname;

const SCRIPT = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/read-bench") {
      const batches = Number(url.searchParams.get("batches"));
      const means = [];
      for (let b = 0; b < batches; b++) {
        const t0 = Date.now();
        for (let i = 0; i < 200; i++) await env.KV.get("key-" + ((b * 200 + i) % ${KEYS}));
        means.push((Date.now() - t0) / 200);
      }
      return Response.json(means);
    }
    const value = await env.KV.get(url.searchParams.get("key"));
    return new Response(value ?? "missing", { status: value === null ? 404 : 200 });
  },
};`;

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function startProcess(name, main, env, readyMsg) {
  const child = spawn(process.execPath, ["--no-node-snapshot", join(root, main)], {
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

function hit(base, path) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { host: "kvbench.localhost" } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function api(cpApi, method, path, body, type = "application/json") {
  const res = await fetch(`${cpApi}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { "content-type": type } : {}) },
    body,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Subscribes as a fresh agent holding `versions`; resolves with the KvSync bytes received until quiet. */
function subscribeBytes(grpc, versions) {
  return new Promise((resolve) => {
    const client = new ControlPlaneServiceClient(grpc, credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
    const stream = client.connect();
    let bytes = 0;
    let entries = 0;
    let quiet = null;
    const done = () => {
      stream.cancel();
      client.close();
      resolve({ bytes, entries });
    };
    stream.on("error", () => {});
    stream.on("data", (message) => {
      const msg = message.msg;
      if (msg?.$case === "welcome") stream.write({ msg: { $case: "kvSubscribe", value: { versions } } });
      if (msg?.$case !== "kvSync") return;
      bytes += KvSync.encode(msg.value).finish().length;
      entries += msg.value.namespaces.reduce((n, ns) => n + ns.entries.length, 0);
      clearTimeout(quiet);
      quiet = setTimeout(done, 500);
    });
    stream.write({
      msg: {
        $case: "hello",
        value: {
          nodeId: "bench-agent",
          pop: "bench",
          lat: 0,
          lon: 0,
          httpAddress: "127.0.0.1:1",
          agentVersion: "bench",
          heldVersions: {},
          heldReleases: {},
          rejectedReleases: {},
        },
      },
    });
    quiet = setTimeout(done, 3_000);
  });
}

/** `count` simulated agents over 2 processes; resolves once all subscribed. */
async function startSimAgents(grpc, count, namespaceId, heldVersion) {
  const workers = Math.min(2, count);
  const waiting = new Map();
  const reports = new Map();
  const children = [];
  let ready = 0;
  await new Promise((resolve, reject) => {
    for (let w = 0; w < workers; w++) {
      const share = Math.floor(count / workers) + (w < count % workers ? 1 : 0);
      const child = fork(
        join(here, "kv-sim-agents.mjs"),
        [grpc, String(share), String(w), namespaceId, String(heldVersion)],
        {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        },
      );
      child.on("message", (message) => {
        if (message.type === "ready" && ++ready === workers) resolve();
        if (message.type !== "seen") return;
        const entry = reports.get(message.key) ?? { workers: 0, last: 0n };
        entry.workers += 1;
        const at = BigInt(message.lastNs);
        if (at > entry.last) entry.last = at;
        reports.set(message.key, entry);
        if (entry.workers === workers) waiting.get(message.key)?.(entry.last);
      });
      child.once("exit", (code) => {
        if (ready < workers) reject(new Error(`agent worker exited (${code})`));
      });
      children.push(child);
    }
  });
  return {
    seenByAll: (key) => new Promise((resolve) => waiting.set(key, resolve)),
    stop: () =>
      Promise.all(
        children.map(
          (child) =>
            new Promise((resolve) => {
              child.once("exit", resolve);
              child.send({ type: "stop" });
              setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
            }),
        ),
      ),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-kv-"));
  const children = [];
  try {
    const cp = await startProcess(
      "control plane",
      "apps/control-plane/dist/main.js",
      {
        EDGE_ADMIN_TOKEN: TOKEN,
        EDGE_STORE: `sqlite:${join(dir, "cp.db")}`,
        EDGE_API_PORT: "0",
        EDGE_GRPC_ADDRESS: "127.0.0.1:0",
      },
      "control plane listening",
    );
    children.push(cp.child);
    const cpApi = `http://127.0.0.1:${cp.record.httpPort}`;
    const grpc = `127.0.0.1:${cp.record.grpcPort}`;
    const ns = await api(cpApi, "POST", "/v1/kv/namespaces", JSON.stringify({ name: "bench" }));
    for (let start = 0; start < KEYS; start += 5_000) {
      const entries = [];
      for (let i = start; i < Math.min(KEYS, start + 5_000); i++)
        entries.push({ key: `key-${i}`, value: `value ${i} ${"x".repeat(64)}` });
      await api(cpApi, "PUT", "/v1/kv/namespaces/bench/bulk", JSON.stringify(entries));
    }
    const nodes = [];
    for (const [i, pop] of POPS.entries()) {
      const node = await startProcess(
        pop,
        "apps/edge-node/dist/main.js",
        {
          EDGE_POP: pop,
          EDGE_NODE_ID: `${pop}-1`,
          EDGE_LAT: String(i * 10),
          EDGE_LON: String(i * 10),
          EDGE_HTTP_HOST: "127.0.0.1",
          EDGE_HTTP_PORT: "0",
          EDGE_CONTROL_PLANE: grpc,
          EDGE_CACHE_DIR: join(dir, `node-${pop}`),
          EDGE_ISOLATE_THREADS: "2",
          EDGE_MAX_WALL_MS: "60000",
        },
        "edge node listening",
      );
      children.push(node.child);
      nodes.push(`http://127.0.0.1:${node.record.httpPort}`);
    }
    await api(
      cpApi,
      "PUT",
      "/v1/scripts/kvbench",
      JSON.stringify({
        source: SCRIPT,
        bindings: { KV: { type: "kv", namespace: "bench" } },
        limits: { cpuMs: 1000, wallMs: 60000 },
      }),
    );
    // Every PoP runs the script and holds the whole namespace.
    for (const base of nodes) {
      for (let tries = 0; ; tries++) {
        const res = await hit(base, `/?key=key-${KEYS - 1}`).catch(() => ({ status: 0 }));
        if (res.status === 200) break;
        if (tries > 600) throw new Error(`${base} never served the namespace`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    process.stderr.write("namespace replicated to 3 PoPs; measuring reads\n");
    // 1. Local reads from a script.
    // A request may make 1000 KV operations (Cloudflare's limit): 4 batches of 200 per request.
    await hit(nodes[0], "/read-bench?batches=4");
    const means = [];
    for (let done = 0; done < BATCHES; done += 4) {
      const reads = await hit(nodes[0], `/read-bench?batches=${Math.min(4, BATCHES - done)}`);
      if (reads.status !== 200) throw new Error(`read bench: ${reads.status} ${reads.text}`);
      means.push(...JSON.parse(reads.text));
    }
    means.sort((a, b) => a - b);

    process.stderr.write("measuring write -> 3 PoPs\n");
    // 2. Write -> readable at every PoP.
    const propagation = [];
    for (let i = 0; i < WRITES; i++) {
      const value = `write ${i} ${Date.now()}`;
      const started = performance.now();
      await api(cpApi, "PUT", `/v1/kv/namespaces/bench/values/prop-${i}`, value, "text/plain");
      await Promise.all(
        nodes.map(async (base) => {
          for (let tries = 0; tries < 5_000; tries++) {
            const res = await hit(base, `/?key=prop-${i}`);
            if (res.text === value) return;
          }
          throw new Error(`${base} never read prop-${i}`);
        }),
      );
      propagation.push(performance.now() - started);
    }
    propagation.sort((a, b) => a - b);

    process.stderr.write(`measuring write -> ${SIM_AGENTS} simulated agents\n`);
    // 3. Write -> received by every simulated agent.
    const held = (await api(cpApi, "GET", "/v1/kv/namespaces/bench")).version;
    const sims = await startSimAgents(grpc, SIM_AGENTS, ns.id, held);
    const simulated = [];
    for (let i = 0; i < WRITES; i++) {
      const key = `sim-${i}`;
      const started = process.hrtime.bigint();
      const received = sims.seenByAll(key);
      await api(cpApi, "PUT", `/v1/kv/namespaces/bench/values/${key}`, `v${i}`, "text/plain");
      simulated.push(Number((await received) - started) / 1e6);
    }
    await sims.stop();
    simulated.sort((a, b) => a - b);

    // 4. Replication bytes: full, then after a reconnect with 5 changes.
    const full = await subscribeBytes(grpc, {});
    const reached = (await api(cpApi, "GET", "/v1/kv/namespaces/bench")).version;
    for (let i = 0; i < 5; i++) {
      await api(cpApi, "PUT", `/v1/kv/namespaces/bench/values/key-${i * 1000}`, `changed ${i}`, "text/plain");
    }
    const resync = await subscribeBytes(grpc, { [ns.id]: reached });

    console.log(`\nWorkers KV, ${KEYS} keys, 3 PoPs (2 isolate threads each), this machine\n`);
    console.table([
      {
        figure: "local read from a script (mean of 200-read batches)",
        p50: `${percentile(means, 50).toFixed(3)} ms`,
        p99: `${percentile(means, 99).toFixed(3)} ms`,
        samples: means.length,
      },
      {
        figure: "API write -> readable on all 3 PoPs",
        p50: `${percentile(propagation, 50).toFixed(1)} ms`,
        p99: `${percentile(propagation, 99).toFixed(1)} ms`,
        samples: propagation.length,
      },
      {
        figure: `API write -> received by ${SIM_AGENTS} simulated agents`,
        p50: `${percentile(simulated, 50).toFixed(1)} ms`,
        p99: `${percentile(simulated, 99).toFixed(1)} ms`,
        samples: simulated.length,
      },
    ]);
    console.table([
      { replication: "subscribe with nothing (whole namespace)", entries: full.entries, bytes: full.bytes },
      { replication: "reconnect after 5 changes", entries: resync.entries, bytes: resync.bytes },
    ]);
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
