// HTTP benchmark: the same scripts, the same load generator, against
//  - our edge node's HTTP front (a fresh isolate per request, worker threads on every core), and
//  - workerd (the npm package `workerd`, which reuses its isolate across requests).
// Prints requests/s, latency, and the ratio ours/workerd. Run from the repository root after a
// build: `node --no-node-snapshot apps/edge-node/bench/http-bench.mjs` (part of `npm run bench`).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isolateFloor } from "../../../packages/isolate-host/bench/isolate-floor.mjs";
import { SCRIPTS, VARS } from "../../../packages/isolate-host/bench/scripts.mjs";
import { latency } from "./latency.mjs";
import { load } from "./load.mjs";

const DURATION_MS = Number(process.env.BENCH_HTTP_SECONDS ?? 5) * 1000;
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 16);
/** One connection: this many requests paced PACED_GAP_MS apart, and as many back to back. */
const LATENCY_COUNT = Number(process.env.BENCH_LATENCY_COUNT ?? 300);
const PACED_GAP_MS = 20;
const here = fileURLToPath(new URL(".", import.meta.url));
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a child and resolves once `ready(line)` matches a line of its output. */
function startChild(command, args, ready, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    children.push(child);
    let output = "";
    const onData = (data) => {
      output += data.toString();
      for (const line of output.split("\n")) {
        const match = ready(line);
        if (match) resolve({ child, match });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${command} did not start: ${output.slice(-2000)}`)), 30_000).unref();
  });
}

async function startOurs() {
  const { child, match } = await startChild(
    process.execPath,
    ["--no-node-snapshot", join(here, "serve-edge-node.mjs")],
    (line) => /^port (\d+) threads (\d+)/.exec(line),
  );
  return {
    child,
    port: Number(match[1]),
    threads: Number(match[2]),
    host: (name) => `${name.replace(/[^a-z0-9-]/g, "-")}.localhost`,
  };
}

async function startWorkerd(dir) {
  const workerd = fileURLToPath(new URL("../../../node_modules/.bin/workerd", import.meta.url));
  const services = [];
  const sockets = [];
  const ports = {};
  for (const [i, [name, { source }]] of Object.entries(SCRIPTS).entries()) {
    writeFileSync(join(dir, `w${i}.js`), source);
    const port = await freePort();
    ports[name] = port;
    const bindings = Object.entries(VARS)
      .map(([key, value]) => `(name = ${JSON.stringify(key)}, text = ${JSON.stringify(value)})`)
      .join(", ");
    services.push(
      `(name = "w${i}", worker = (modules = [(name = "w${i}.js", esModule = embed "w${i}.js")], compatibilityDate = "2025-01-01", bindings = [${bindings}]))`,
    );
    sockets.push(`(name = "s${i}", address = "127.0.0.1:${port}", http = (), service = "w${i}")`);
  }
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (\n  services = [${services.join(", ")}],\n  sockets = [${sockets.join(", ")}],\n);\n`,
  );
  const child = spawn(workerd, ["serve", join(dir, "config.capnp")], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (data) => {
    stderr += data.toString();
  });
  const exited = new Promise((_resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`workerd exited with ${code}: ${stderr.slice(-1000)}`)));
  });
  exited.catch(() => {});
  return { child, ports, exited };
}

/** workerd prints nothing when ready: poll its first port. */
async function waitForHttp(port, host) {
  for (let i = 0; i < 100; i++) {
    const result = await load({
      port,
      host,
      method: "GET",
      path: "/",
      headers: [],
      body: null,
      connections: 1,
      durationMs: 1,
    }).catch(() => null);
    if (result !== null && result.ok + result.failed > 0 && result.failed === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing answered on port ${port}`);
}

async function measure(port, host, shape) {
  const run = (durationMs) => load({ port, host, ...shape, connections: CONNECTIONS, durationMs });
  await run(Math.min(1000, DURATION_MS / 3)); // warm-up
  const throughput = await run(DURATION_MS);
  const paced = await latency({ port, host, ...shape, count: LATENCY_COUNT, gapMs: PACED_GAP_MS });
  const backToBack = await latency({ port, host, ...shape, count: LATENCY_COUNT, gapMs: 0 });
  return { ...throughput, paced, backToBack };
}

const dir = mkdtempSync(join(tmpdir(), "edge-bench-"));
try {
  console.log(
    `HTTP front benchmark: ${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s per case, ${availableParallelism()} cores, load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}`,
  );
  const ours = await startOurs();
  const rows = [];
  for (const [name, { request }] of Object.entries(SCRIPTS)) {
    rows.push({ name, ours: await measure(ours.port, ours.host(name), request) });
  }
  ours.child.kill("SIGTERM");
  let workerdNote = "";
  try {
    const workerd = await startWorkerd(dir);
    await Promise.race([waitForHttp(Object.values(workerd.ports)[0], "localhost"), workerd.exited]);
    for (const row of rows) {
      row.workerd = await measure(workerd.ports[row.name], "localhost", SCRIPTS[row.name].request);
    }
    workerd.child.kill("SIGTERM");
  } catch (err) {
    workerdNote = `workerd could not run here: ${err.message.split("\n")[0]}`;
  }
  const fmt = (r) =>
    r
      ? `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${r.failed ? `  (${r.failed} failed)` : ""}`
      : "n/a";
  console.log(
    `\n(2) edge node HTTP front, fresh isolate per request (${ours.threads} worker threads)  vs  (3) workerd, isolate reused`,
  );
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(16)} ours:    ${fmt(row.ours)}`);
    console.log(`  ${"".padEnd(16)} workerd: ${fmt(row.workerd)}`);
    if (row.workerd)
      console.log(`  ${"".padEnd(16)} ours/workerd: ${((100 * row.ours.rps) / row.workerd.rps).toFixed(1)}%`);
  }
  if (workerdNote) console.log(workerdNote);
  const ms = (v) => `${v.toFixed(2)} ms`;
  const added = (a, b) => `${a - b >= 0 ? "+" : ""}${(a - b).toFixed(2)}`;
  console.log(
    `\n(4) latency over HTTP, one keep-alive connection, ${LATENCY_COUNT} requests each: paced ${PACED_GAP_MS} ms apart, and back to back`,
  );
  for (const row of rows) {
    for (const mode of ["paced", "backToBack"]) {
      const o = row.ours[mode];
      const w = row.workerd?.[mode];
      const label = mode === "paced" ? "paced" : "back to back";
      console.log(
        `  ${(mode === "paced" ? row.name : "").padEnd(16)} ${label.padEnd(13)} ours p50 ${ms(o.p50)} p99 ${ms(o.p99)}` +
          (w
            ? `   workerd p50 ${ms(w.p50)} p99 ${ms(w.p99)}   added ${added(o.p50, w.p50)} / ${added(o.p99, w.p99)} ms`
            : ""),
      );
    }
  }
  // What no fresh-isolate-per-request design on isolated-vm can beat on this machine, even with
  // nothing run in the isolate and no HTTP: isolate + context creation and disposal alone.
  const floor = await isolateFloor(availableParallelism());
  console.log(
    `\n(5) floor: bare isolated-vm new Isolate() + createContext() + dispose() on ${availableParallelism()} threads, nothing else: ${floor.toFixed(0)}/s`,
  );
  for (const row of rows) {
    console.log(
      `  ${row.name.padEnd(16)} ours ${row.ours.rps.toFixed(0)} req/s = ${((100 * row.ours.rps) / floor).toFixed(0)}% of the floor` +
        (row.workerd
          ? `; workerd ${row.workerd.rps.toFixed(0)} req/s (the floor is ${((100 * floor) / row.workerd.rps).toFixed(1)}% of it)`
          : ""),
    );
  }
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
