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
//   3. replication bytes after a reconnect: an agent speaking edge.v1
//      subscribes with nothing (the whole namespace is sent), disconnects,
//      5 keys change, and it subscribes again with the version it holds.
// A figure, not a test: nothing here passes or fails.
//
// Knobs: BENCH_KEYS=10000  BENCH_WRITES=30  BENCH_BATCHES=50
import { spawn } from "node:child_process";
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
const BATCHES = Number(process.env.BENCH_BATCHES ?? 50);
const POPS = ["fra", "iad", "sin"];

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

    // 1. Local reads from a script.
    await hit(nodes[0], "/read-bench?batches=5");
    const reads = await hit(nodes[0], `/read-bench?batches=${BATCHES}`);
    if (reads.status !== 200) throw new Error(`read bench: ${reads.status} ${reads.text}`);
    const means = JSON.parse(reads.text).sort((a, b) => a - b);

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

    // 3. Replication bytes: full, then after a reconnect with 5 changes.
    const full = await subscribeBytes(grpc, {});
    const held = (await api(cpApi, "GET", "/v1/kv/namespaces/bench")).version;
    for (let i = 0; i < 5; i++) {
      await api(cpApi, "PUT", `/v1/kv/namespaces/bench/values/key-${i * 1000}`, `changed ${i}`, "text/plain");
    }
    const resync = await subscribeBytes(grpc, { [ns.id]: held });

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
