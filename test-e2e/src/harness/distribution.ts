/**
 * Harness for the config-distribution fault tests: control-plane replicas and
 * edge nodes with the knobs those tests turn (replica ids, several control
 * plane addresses, a cache dir that survives a kill), a TCP proxy that can
 * cut a stream mid-push, and a prober that keeps calling the PoPs during a
 * fault and records every answer.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { freshCacheDir } from "./cache-dir.js";
import { type EdgeNodeProc, hit, type PopSpec, TOKEN } from "./cluster.js";
import { AppProcess, CONTROL_PLANE_MAIN, EDGE_NODE_MAIN } from "./process.js";

export { freshCacheDir };

export interface Replica {
  id: string;
  proc: AppProcess;
  api: string;
  grpcPort: number;
  grpcAddress: string;
}

/** A control-plane process (one replica of a cluster on `store`). Port 0 picks free ports. */
export async function startReplica(
  id: string,
  store: string,
  options: { grpcPort?: number; env?: Record<string, string> } = {},
): Promise<Replica> {
  const proc = new AppProcess(id, CONTROL_PLANE_MAIN, {
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_STORE: store,
    EDGE_API_HOST: "127.0.0.1",
    EDGE_API_PORT: "0",
    EDGE_GRPC_ADDRESS: `127.0.0.1:${options.grpcPort ?? 0}`,
    EDGE_NODE_TIMEOUT_MS: "3000",
    EDGE_CONTROL_PLANE_ID: id,
    ...options.env,
  });
  const ready = await proc.waitForLog((r) => r.msg === "control plane listening");
  const grpcPort = Number(ready.grpcPort);
  return {
    id,
    proc,
    api: `http://127.0.0.1:${ready.httpPort}`,
    grpcPort,
    grpcAddress: `127.0.0.1:${grpcPort}`,
  };
}

export interface NodeProc extends EdgeNodeProc {
  id: string;
  cacheDir: string;
}

/** An edge-node process talking to `controlPlanes` (in that order of preference). */
export async function startNode(
  spec: PopSpec,
  controlPlanes: string[],
  options: { cacheDir?: string; env?: Record<string, string> } = {},
): Promise<NodeProc> {
  const id = `${spec.pop}-1`;
  const cacheDir = options.cacheDir ?? freshCacheDir();
  const proc = new AppProcess(spec.pop, EDGE_NODE_MAIN, {
    EDGE_POP: spec.pop,
    EDGE_NODE_ID: id,
    EDGE_LAT: String(spec.lat),
    EDGE_LON: String(spec.lon),
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: controlPlanes.join(","),
    EDGE_CACHE_DIR: cacheDir,
    EDGE_RECONNECT_MAX_MS: "1000",
    EDGE_METRICS_INTERVAL_MS: "1000",
    ...options.env,
  });
  const ready = await proc.waitForLog((r) => r.msg === "edge node listening");
  return { id, proc, pop: spec.pop, base: `http://127.0.0.1:${ready.httpPort}`, cacheDir };
}

/** The admin API of one replica. */
export async function call(replica: Replica, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  let payload: string | undefined;
  if (typeof body === "string") {
    headers["content-type"] = "application/javascript";
    payload = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${replica.api}${path}`, {
    method,
    headers,
    body: payload ?? null,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** A script whose answer names its version. */
export function versioned(tag: string, padBytes = 0): string {
  const pad = padBytes > 0 ? `\n// ${"x".repeat(padBytes)}` : "";
  return `export default { fetch() { return new Response(${JSON.stringify(tag)}); } };${pad}`;
}

interface NodeListEntry {
  id: string;
  status: string;
  controlPlaneId: string;
  scripts: Record<string, number>;
}

export async function listNodes(replica: Replica): Promise<NodeListEntry[]> {
  return ((await call(replica, "GET", "/v1/nodes")).json?.nodes ?? []) as NodeListEntry[];
}

/**
 * Calls every node for `script` back to back until stopped, and records every
 * answer: the fault tests require that each one is a 200 from a version that
 * was deployed (old or new), whatever the control plane or Redis is doing.
 */
export class Prober {
  readonly answers: Array<{ node: string; status: number; version: string | null }> = [];
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(nodes: EdgeNodeProc[], script: string) {
    this.#loops = nodes.map(async (node) => {
      while (this.#running) {
        try {
          const answer = await hit(node, script);
          this.answers.push({ node: node.pop, status: answer.status, version: answer.version });
        } catch (error) {
          this.answers.push({ node: node.pop, status: 0, version: String(error) });
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Answers that were not a 200 from one of `versions`. */
  failures(versions: Iterable<number>): Array<{ node: string; status: number; version: string | null }> {
    const allowed = new Set([...versions].map(String));
    return this.answers.filter((a) => a.status !== 200 || a.version === null || !allowed.has(a.version));
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of one address. `cutAfter(n)` destroys
 * every connection once `n` more bytes went from the target to the clients:
 * armed before a large push, it cuts the stream in the middle of it. New
 * connections are accepted afterwards as before.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cutBudget: number | null = null;
  #cuts = 0;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.on("data", (chunk: Buffer) => {
        if (this.#cutBudget !== null) {
          this.#cutBudget -= chunk.length;
          if (this.#cutBudget <= 0) {
            this.#cutBudget = null;
            this.#cuts += 1;
            for (const socket of [...this.#sockets]) socket.destroy();
            return;
          }
        }
        client.write(chunk);
      });
      upstream.on("end", () => client.end());
    });
  }

  /** How many times the proxy cut its connections. */
  get cuts(): number {
    return this.#cuts;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    this.port = typeof address === "object" && address !== null ? address.port : 0;
    return this.port;
  }

  cutAfter(bytes: number): void {
    this.#cutBudget = bytes;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
