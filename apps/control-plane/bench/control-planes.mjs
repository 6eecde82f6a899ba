// Control-plane replicas for the propagation benchmark: real processes
// (dist/main.js), each with its own API and gRPC port, on one store: a SQLite
// file (one replica only) or one real redis-server shared by all replicas.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const here = new URL(".", import.meta.url).pathname;
const CONTROL_PLANE_MAIN = join(here, "../dist/main.js");
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU time (ms) and memory (MB) of a process, from /proc. */
export function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs, rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

/**
 * Starts one replica. `profileDir`: write a V8 CPU profile of it there (on exit).
 * Resolves once it logs "control plane listening".
 */
export async function startControlPlane({ id, store, token, profileDir }) {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, CONTROL_PLANE_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      EDGE_ADMIN_TOKEN: token,
      EDGE_STORE: store,
      EDGE_API_PORT: "0",
      EDGE_GRPC_ADDRESS: "127.0.0.1:0",
      EDGE_LOG_LEVEL: "info",
      EDGE_CONTROL_PLANE_ID: id,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  /** Node streams this replica ended or saw end, by code or reason (from its log). */
  const streamEnds = new Map();
  const ready = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      try {
        const record = JSON.parse(line);
        if (record.msg === "control plane listening") resolve(record);
        if (record.msg === "ending stream" || record.msg === "node stream ended") {
          const key = record.code ?? record.reason;
          streamEnds.set(key, (streamEnds.get(key) ?? 0) + 1);
        }
      } catch {
        // not a log record
      }
    });
    child.once("exit", (code) => reject(new Error(`control plane ${id} exited (${code})`)));
  });
  child.stdout.resume();
  return {
    id,
    child,
    streamEnds,
    api: `http://127.0.0.1:${ready.httpPort}`,
    grpc: `127.0.0.1:${ready.grpcPort}`,
  };
}

/** SIGTERM (a clean exit writes the CPU profile), SIGKILL after 20 s. */
export function stopControlPlane(cp) {
  return new Promise((resolve) => {
    if (cp.child.exitCode !== null) return resolve();
    cp.child.once("exit", resolve);
    cp.child.kill("SIGTERM");
    setTimeout(() => cp.child.kill("SIGKILL"), 20_000).unref();
  });
}
