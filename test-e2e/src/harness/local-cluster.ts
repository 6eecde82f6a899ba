import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { requestWithHost } from "@edge/edge-node/testing";

const repoRoot = new URL("../../../", import.meta.url).pathname;

/** Free TCP ports on loopback (each bound to port 0 and released). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

export interface ClusterRecord {
  process?: string;
  msg?: string;
  pid?: number;
  [key: string]: unknown;
}

export interface ClusterPorts {
  api: number;
  grpc: number;
  router: number;
  dns: number;
  pops: { fra: number; iad: number; sin: number };
}

/**
 * The local cluster (`scripts/local-cluster.mjs`) as a child process, on free
 * ports and its own data folder, its output in JSON (EDGE_LOG_FORMAT=json) so
 * a test can wait for records. `viaNpm`: started as a newcomer does, `npm start`.
 */
export class LocalCluster {
  readonly records: ClusterRecord[] = [];
  readonly exited: Promise<number | null>;
  readonly dataDir = mkdtempSync(join(tmpdir(), "edge-e2e-local-cluster-"));
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  private constructor(
    readonly ports: ClusterPorts,
    readonly env: Record<string, string>,
    viaNpm: boolean,
  ) {
    const fullEnv = { ...process.env, ...env, EDGE_CLUSTER_DATA_DIR: this.dataDir };
    this.#child = viaNpm
      ? spawn("npm", ["start", "--silent"], {
          cwd: repoRoot,
          env: fullEnv,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, ["--no-node-snapshot", "scripts/local-cluster.mjs"], {
          cwd: repoRoot,
          env: fullEnv,
          stdio: ["ignore", "pipe", "pipe"],
        });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        let record: ClusterRecord;
        try {
          record = JSON.parse(line) as ClusterRecord;
        } catch {
          record = { msg: line };
        }
        this.records.push(record);
        for (const w of this.#waiters) w();
      });
    }
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** Starts a cluster on free ports and waits until it says it is ready. */
  static async start(
    options: { viaNpm?: boolean; env?: Record<string, string> } = {},
  ): Promise<LocalCluster> {
    const [api, grpc, router, dns, fra, iad, sin] = (await freePorts(7)) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const ports = { api, grpc, router, dns, pops: { fra, iad, sin } };
    const env = {
      EDGE_LOG_FORMAT: "json",
      EDGE_API_PORT: String(api),
      EDGE_GRPC_ADDRESS: `127.0.0.1:${grpc}`,
      EDGE_ROUTER_PORT: String(router),
      EDGE_DNS_PORT: String(dns),
      EDGE_CLUSTER_POP_PORTS: `${fra},${iad},${sin}`,
      EDGE_SHUTDOWN_GRACE_MS: "3000",
      ...options.env,
    };
    const cluster = new LocalCluster(ports, env, options.viaNpm === true);
    await cluster.waitFor((r) => r.msg === "local cluster ready", 120_000);
    return cluster;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  /** The latest pid the launcher reported for `name` (`control-plane`, `fra`, ..., `router`). */
  pidOf(name: string): number {
    const started = this.records.filter((r) => r.process === "cluster" && r.msg === `${name} started`);
    const pid = started.at(-1)?.pid;
    if (typeof pid !== "number") throw new Error(`no pid reported for ${name}`);
    return pid;
  }

  /** Every pid the launcher reported: its own ("local cluster ready") and each process it started. */
  allPids(): number[] {
    return this.records
      .filter((r) => r.process === "cluster" && typeof r.pid === "number")
      .map((r) => r.pid as number);
  }

  /** Resolves with the first record matching `predicate` (from `from` on); rejects on exit or timeout. */
  waitFor(predicate: (r: ClusterRecord) => boolean, timeoutMs = 30_000, from = 0): Promise<ClusterRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`local cluster: timed out waiting; last: ${this.tail()}`));
      }, timeoutMs);
      const check = () => {
        const found = this.records.slice(from).find(predicate);
        const running = this.#child.exitCode === null && this.#child.signalCode === null;
        if (found || !running) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          if (found) resolve(found);
          else reject(new Error(`local cluster exited; last: ${this.tail()}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  tail(n = 8): string {
    return this.records
      .slice(-n)
      .map((r) => JSON.stringify(r))
      .join("\n");
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Stops it (SIGTERM; SIGKILL to everything left after 15 s) and removes its data. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const pid of [this.pid, ...this.allPids()]) if (pid && isAlive(pid)) process.kill(pid, "SIGKILL");
    }, 15_000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Whether a process with this pid still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A request to `<script>.localhost` on one port (a PoP's or the router's). */
export async function hitPort(port: number, script: string, path = "/") {
  const res = await requestWithHost(`http://127.0.0.1:${port}`, `${script}.localhost`, path);
  return { status: res.status, text: res.text, pop: res.headers["x-edge-pop"] };
}
