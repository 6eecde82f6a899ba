#!/usr/bin/env node
// Starts a local cluster on loopback: the control plane on an embedded SQLite
// store, three PoPs and the router in front of them, and supervises them: a
// process that exits unexpectedly is restarted with backoff while the others
// keep running. Ctrl-C (SIGINT) or SIGTERM stops everything within seconds.
// Run through `npm start` / `./edge start`, which build first. Output: one
// readable line per log record, the process name first (EDGE_LOG_FORMAT=json:
// the children's JSON lines, each with its `process`, for tools).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { formatLogLine, formatRecord, wantsColor } from "../packages/app-process/dist/index.js";

const root = new URL("..", import.meta.url).pathname;
const env = process.env;
const token = env.EDGE_ADMIN_TOKEN ?? "dev-admin-token";
const dataDir = resolve(root, env.EDGE_CLUSTER_DATA_DIR ?? ".data");
const api = { host: "127.0.0.1", port: Number(env.EDGE_API_PORT ?? 8080) };
const grpcAddress = env.EDGE_GRPC_ADDRESS ?? "127.0.0.1:50051";
const router = { httpPort: Number(env.EDGE_ROUTER_PORT ?? 8000), dnsPort: Number(env.EDGE_DNS_PORT ?? 5353) };
const popPorts = (env.EDGE_CLUSTER_POP_PORTS ?? "8101,8102,8103").split(",").map(Number);
const pops = [
  { pop: "fra", city: "Frankfurt", lat: 50.1109, lon: 8.6821, port: popPorts[0] ?? 8101 },
  { pop: "iad", city: "Ashburn, Virginia", lat: 38.9445, lon: -77.4558, port: popPorts[1] ?? 8102 },
  { pop: "sin", city: "Singapore", lat: 1.3521, lon: 103.8198, port: popPorts[2] ?? 8103 },
];
// Each app drains this long on Ctrl-C; the launcher kills what is left a little later.
const graceMs = Number(env.EDGE_SHUTDOWN_GRACE_MS ?? 5_000);
const jsonOut = env.EDGE_LOG_FORMAT === "json";
const color = wantsColor(process.stdout);
const nameWidth = "control-plane".length;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** A process that ran this long before exiting is restarted after the shortest delay again. */
const STABLE_MS = 30_000;

mkdirSync(dataDir, { recursive: true });
/** @type {Map<string, { name: string, args: string[], env: Record<string,string>, child: import("node:child_process").ChildProcess | null, restarts: number, startedAt: number, timer: NodeJS.Timeout | null }>} */
const services = new Map();
let stopping = false;
let stoppingAt = 0;

/** The launcher's own lines, in the same format as its children's. */
function say(level, msg, fields = {}) {
  const record = { level: { info: 30, warn: 40, error: 50 }[level], time: Date.now(), msg, ...fields };
  process.stdout.write(
    `${jsonOut ? JSON.stringify({ process: "cluster", ...record }) : formatRecord(record, { name: "cluster", color, nameWidth })}\n`,
  );
}

/** A child's JSON line with the process's name added (`process`), for tools reading EDGE_LOG_FORMAT=json. */
function tagged(line, name) {
  if (!line.startsWith("{")) return JSON.stringify({ level: 30, time: Date.now(), process: name, msg: line });
  try {
    return JSON.stringify({ process: name, ...JSON.parse(line) });
  } catch {
    return line;
  }
}

/** Starts (or restarts) one supervised process; resolves once it logs `readyMsg` (at once without one). */
function launch(service, readyMsg) {
  const child = spawn(process.execPath, service.args, {
    cwd: root,
    env: { ...env, EDGE_SHUTDOWN_GRACE_MS: String(graceMs), ...service.env, EDGE_LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a terminal's Ctrl-C reaches the launcher only, which stops each child once.
    detached: true,
  });
  service.child = child;
  service.startedAt = Date.now();
  let ready;
  const started = new Promise((resolve) => {
    ready = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      process.stdout.write(
        `${jsonOut ? tagged(line, service.name) : formatLogLine(line, { name: service.name, color, nameWidth })}\n`,
      );
      if (readyMsg && line.includes(`"msg":"${readyMsg}"`)) ready();
    });
  }
  if (!readyMsg) ready();
  say("info", `${service.name} started`, { pid: child.pid });
  child.on("error", (err) => say("error", `${service.name} could not be started`, { err: err.message }));
  child.on("exit", (code, signal) => {
    ready();
    service.child = null;
    if (stopping) return;
    const ranMs = Date.now() - service.startedAt;
    if (ranMs >= STABLE_MS) service.restarts = 0;
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** service.restarts);
    service.restarts += 1;
    say(
      "error",
      `${service.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting it in ${delayMs} ms`,
      {
        restart: service.restarts,
      },
    );
    service.timer = setTimeout(() => {
      service.timer = null;
      if (stopping) return;
      say("info", `${service.name} restarting`, { restart: service.restarts });
      launch(service, readyMsg);
    }, delayMs);
  });
  return started;
}

function supervise(name, args, childEnv, readyMsg) {
  const service = { name, args, env: childEnv, child: null, restarts: 0, startedAt: 0, timer: null };
  services.set(name, service);
  return launch(service, readyMsg);
}

process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
// A closed terminal: the children are in their own process group and would not hear of it.
process.on("SIGHUP", () => stop("SIGHUP"));
// Whatever ends the launcher, its children do not outlive it.
process.on("exit", () => {
  for (const { child } of services.values()) if (child && child.exitCode === null) child.kill("SIGKILL");
});

await supervise(
  "control-plane",
  ["apps/control-plane/dist/main.js"],
  {
    EDGE_DEV: "1",
    EDGE_ADMIN_TOKEN: token,
    EDGE_STORE: env.EDGE_STORE ?? `sqlite:${join(dataDir, "control-plane.db")}`,
    EDGE_API_HOST: api.host,
    EDGE_API_PORT: String(api.port),
    EDGE_GRPC_ADDRESS: grpcAddress,
  },
  "control plane listening",
);
const popsReady = pops.map((p) =>
  supervise(
    p.pop,
    ["--no-node-snapshot", "apps/edge-node/dist/main.js"],
    {
      EDGE_POP: p.pop,
      EDGE_NODE_ID: `${p.pop}-1`,
      EDGE_LAT: String(p.lat),
      EDGE_LON: String(p.lon),
      EDGE_HTTP_HOST: "127.0.0.1",
      EDGE_HTTP_PORT: String(p.port),
      EDGE_CONTROL_PLANE: grpcAddress,
      // A restarted control plane is on the same machine: reconnect within 2 s, not the default 30 s.
      EDGE_RECONNECT_MAX_MS: env.EDGE_RECONNECT_MAX_MS ?? "2000",
      EDGE_CACHE_DIR: join(dataDir, "edge-cache", `${p.pop}-1`),
    },
    "edge node listening",
  ),
);

// The router: HTTP and DNS entry that sends each client to the nearest healthy PoP.
const routerReady = supervise(
  "router",
  ["apps/router/dist/main.js"],
  {
    EDGE_DEV: "1",
    EDGE_ADMIN_TOKEN: token,
    EDGE_API_URL: `http://${api.host}:${api.port}`,
    EDGE_ROUTER_HOST: "127.0.0.1",
    EDGE_ROUTER_PORT: String(router.httpPort),
    EDGE_DNS_HOST: "127.0.0.1",
    EDGE_DNS_PORT: String(router.dnsPort),
    EDGE_DEFAULT_POP: env.EDGE_DEFAULT_POP ?? "fra",
  },
  "router listening",
);
await Promise.all([...popsReady, routerReady]);

if (!stopping) {
  const lines = [
    "",
    `control plane  http://${api.host}:${api.port}   (token: ${env.EDGE_ADMIN_TOKEN ? "$EDGE_ADMIN_TOKEN" : token})`,
    ...pops.map((p) => `PoP ${p.pop} (${p.city})  http://<script>.localhost:${p.port}/`),
    `router         http://<script>.localhost:${router.httpPort}/  (x-edge-client-geo: lat,lon), DNS 127.0.0.1:${router.dnsPort}`,
    `edgectl        EDGE_API_TOKEN=${env.EDGE_ADMIN_TOKEN ? "$EDGE_ADMIN_TOKEN" : token} ./edge npx edgectl --help`,
    "Ctrl-C stops the cluster.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  say("info", "local cluster ready", { processes: services.size, pid: process.pid });
}

/** Stops every process: SIGTERM, then SIGKILL for what is left after the grace period. */
function stop(signal) {
  if (stopping) {
    // A terminal's Ctrl-C reaches npm and this process at once, and npm forwards it: one press, two signals.
    if (Date.now() - stoppingAt < 1_000) return;
    say("warn", "second signal: killing every process now");
    process.exit(1);
  }
  stopping = true;
  stoppingAt = Date.now();
  say("info", `${signal}: stopping the local cluster`, { graceMs });
  const running = [];
  for (const service of services.values()) {
    if (service.timer) clearTimeout(service.timer);
    const child = service.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    running.push(new Promise((resolve) => child.once("exit", resolve)));
    child.kill("SIGTERM");
  }
  const deadline = setTimeout(() => {
    say("warn", "some processes did not stop in time: killing them");
    for (const { child } of services.values()) if (child && child.exitCode === null) child.kill("SIGKILL");
  }, graceMs + 2_000);
  Promise.all(running).then(() => {
    clearTimeout(deadline);
    say("info", "local cluster stopped");
    process.exit(0);
  });
}
