#!/usr/bin/env node
// Starts a local cluster on loopback: the control plane on an embedded SQLite
// store, three PoPs and the router in front of them. Ctrl-C stops everything.
// Run through `npm start`, which builds first. Output: one line per log record,
// prefixed by process.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";

const root = new URL("..", import.meta.url).pathname;
const token = process.env.EDGE_ADMIN_TOKEN ?? "dev-admin-token";
const api = { host: "127.0.0.1", port: Number(process.env.EDGE_API_PORT ?? 8080) };
const grpcAddress = process.env.EDGE_GRPC_ADDRESS ?? "127.0.0.1:50051";
const router = {
  httpPort: Number(process.env.EDGE_ROUTER_PORT ?? 8000),
  dnsPort: Number(process.env.EDGE_DNS_PORT ?? 5353),
};
const pops = [
  { pop: "fra", city: "Frankfurt", lat: 50.1109, lon: 8.6821, port: 8101 },
  { pop: "iad", city: "Ashburn, Virginia", lat: 38.9445, lon: -77.4558, port: 8102 },
  { pop: "sin", city: "Singapore", lat: 1.3521, lon: 103.8198, port: 8103 },
];

mkdirSync(`${root}.data`, { recursive: true });
const children = [];
let stopping = false;

/** Starts one app; resolves once it logs `readyMsg` (at once without one). */
function start(name, args, env, readyMsg) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let ready;
  const started = new Promise((resolve) => {
    ready = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      process.stdout.write(`[${name}] ${pretty(line)}\n`);
      if (readyMsg && line.includes(`"msg":"${readyMsg}"`)) ready();
    });
  }
  if (!readyMsg) ready();
  child.on("exit", (code, signal) => {
    process.stdout.write(`[${name}] exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return started;
}

function pretty(line) {
  try {
    const { level, msg, time, pid, hostname, service, ...rest } = JSON.parse(line);
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : "";
    return `${msg}${extra}`;
  } catch {
    return line;
  }
}

await start(
  "control-plane",
  ["apps/control-plane/dist/main.js"],
  {
    EDGE_DEV: "1",
    EDGE_ADMIN_TOKEN: token,
    EDGE_STORE: process.env.EDGE_STORE ?? "sqlite:.data/control-plane.db",
    EDGE_API_HOST: api.host,
    EDGE_API_PORT: String(api.port),
    EDGE_GRPC_ADDRESS: grpcAddress,
  },
  "control plane listening",
);
for (const p of pops) {
  start(p.pop, ["--no-node-snapshot", "apps/edge-node/dist/main.js"], {
    EDGE_POP: p.pop,
    EDGE_NODE_ID: `${p.pop}-1`,
    EDGE_LAT: String(p.lat),
    EDGE_LON: String(p.lon),
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: String(p.port),
    EDGE_CONTROL_PLANE: grpcAddress,
  });
}

// The router: HTTP and DNS entry that sends each client to the nearest healthy PoP.
start("router", ["apps/router/dist/main.js"], {
  EDGE_ADMIN_TOKEN: token,
  EDGE_API_URL: `http://${api.host}:${api.port}`,
  EDGE_ROUTER_HOST: "127.0.0.1",
  EDGE_ROUTER_PORT: String(router.httpPort),
  EDGE_DNS_HOST: "127.0.0.1",
  EDGE_DNS_PORT: String(router.dnsPort),
  EDGE_DEFAULT_POP: process.env.EDGE_DEFAULT_POP ?? "fra",
});

process.stdout.write(
  [
    "",
    `control plane  http://${api.host}:${api.port}   (token: ${process.env.EDGE_ADMIN_TOKEN ? "$EDGE_ADMIN_TOKEN" : token})`,
    ...pops.map((p) => `PoP ${p.pop} (${p.city})  http://<script>.localhost:${p.port}/`),
    `router         http://<script>.localhost:${router.httpPort}/  (x-edge-client-geo: lat,lon), DNS 127.0.0.1:${router.dnsPort}`,
    "Ctrl-C stops the cluster.",
    "",
  ].join("\n"),
);

function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  const deadline = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  }, 5_000);
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))))).then(
    () => {
      clearTimeout(deadline);
      process.exit(code);
    },
  );
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
