import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, type ControlPlane, type EdgeNodeProc, eventually, TOKEN } from "../harness/cluster.js";
import { AppProcess, CONTROL_PLANE_MAIN, EDGE_NODE_MAIN } from "../harness/process.js";

/** A control plane on SQLite and one edge node, each a real process, with extra settings for the node. */
export interface HostileCluster {
  cp: ControlPlane;
  node: EdgeNodeProc;
  cacheDir: string;
  stop(): Promise<void>;
}

export async function startHostileCluster(nodeEnv: Record<string, string> = {}): Promise<HostileCluster> {
  const dir = mkdtempSync(join(tmpdir(), "edge-hostile-"));
  const cacheDir = join(dir, "cache");
  const cpProc = new AppProcess("control-plane", CONTROL_PLANE_MAIN, {
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_STORE: `sqlite:${join(dir, "cp.db")}`,
    EDGE_API_HOST: "127.0.0.1",
    EDGE_API_PORT: "0",
    EDGE_GRPC_ADDRESS: "127.0.0.1:0",
    EDGE_NODE_TIMEOUT_MS: "3000",
    EDGE_SECRETS_KEY: "11".repeat(32),
  });
  const ready = await cpProc.waitForLog((r) => r.msg === "control plane listening");
  const cp: ControlPlane = {
    proc: cpProc,
    api: `http://127.0.0.1:${ready.httpPort}`,
    grpcPort: Number(ready.grpcPort),
  };
  const nodeProc = new AppProcess("fra", EDGE_NODE_MAIN, {
    EDGE_POP: "fra",
    EDGE_NODE_ID: "fra-1",
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${cp.grpcPort}`,
    EDGE_METRICS_INTERVAL_MS: "250",
    EDGE_CACHE_DIR: cacheDir,
    ...nodeEnv,
  });
  const listening = await nodeProc.waitForLog((r) => r.msg === "edge node listening");
  const node: EdgeNodeProc = { proc: nodeProc, pop: "fra", base: `http://127.0.0.1:${listening.httpPort}` };
  await eventually(async () => {
    const { json } = await api(cp, "GET", "/v1/nodes");
    return ((json?.nodes ?? []) as Array<{ status: string }>).some((n) => n.status === "healthy");
  }, "the node registered healthy");
  return {
    cp,
    node,
    cacheDir,
    async stop() {
      await nodeProc.stop();
      await cpProc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deploys `source` (with settings) and waits until the node serves that version. */
export async function deploy(
  cluster: HostileCluster,
  name: string,
  source: string,
  settings: {
    limits?: Record<string, number>;
    vars?: Record<string, string>;
    secrets?: Record<string, string>;
  } = {},
): Promise<void> {
  const put = await api(
    cluster.cp,
    "PUT",
    `/v1/scripts/${name}`,
    JSON.stringify({ source, ...settings }),
    "application/json",
  );
  if (put.status !== 201)
    throw new Error(`deploy of ${name} failed: ${put.status} ${JSON.stringify(put.json)}`);
  const version = String(put.json?.version);
  await eventually(async () => {
    const res = await fetchFrom(cluster.node, name);
    return res.version === version;
  }, `the node serves ${name} v${version}`);
}

/** One request to `<name>.localhost` on the node, with the response's status, version, code and text. */
export async function fetchFrom(node: EdgeNodeProc, name: string, path = "/") {
  const { requestWithHost } = await import("@edge/edge-node/testing");
  const res = await requestWithHost(node.base, `${name}.localhost`, path);
  let code: string | null = null;
  try {
    code = (JSON.parse(res.text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    code = null;
  }
  const version = res.headers["x-edge-script-version"];
  return { status: res.status, text: res.text, code, version: typeof version === "string" ? version : null };
}

/** A process's resident set size in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
