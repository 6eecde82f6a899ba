import { requestWithHost } from "@edge/edge-node/testing";
import { freshCacheDir } from "./cache-dir.js";
import { AppProcess, CONTROL_PLANE_MAIN, EDGE_NODE_MAIN } from "./process.js";

export const TOKEN = "e2e-admin-token-0123";

export interface PopSpec {
  pop: string;
  lat: number;
  lon: number;
}

export const POPS: PopSpec[] = [
  { pop: "fra", lat: 50.1109, lon: 8.6821 },
  { pop: "iad", lat: 38.9445, lon: -77.4558 },
  { pop: "sin", lat: 1.3521, lon: 103.8198 },
];

export interface ControlPlane {
  proc: AppProcess;
  api: string;
  grpcPort: number;
}

/** Starts the control plane's built main.js and waits until it listens. Port 0 picks free ports. */
export async function startControlPlane(
  store: string,
  grpcPort = 0,
  env: Record<string, string> = {},
): Promise<ControlPlane> {
  const proc = new AppProcess("control-plane", CONTROL_PLANE_MAIN, {
    ...env,
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_STORE: store,
    EDGE_API_HOST: "127.0.0.1",
    EDGE_API_PORT: "0",
    EDGE_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
    EDGE_NODE_TIMEOUT_MS: "3000",
  });
  const ready = await proc.waitForLog((r) => r.msg === "control plane listening");
  return { proc, api: `http://127.0.0.1:${ready.httpPort}`, grpcPort: Number(ready.grpcPort) };
}

export interface EdgeNodeProc {
  proc: AppProcess;
  pop: string;
  base: string;
}

export async function startEdgeNode(spec: PopSpec, grpcPort: number): Promise<EdgeNodeProc> {
  const proc = new AppProcess(spec.pop, EDGE_NODE_MAIN, {
    EDGE_POP: spec.pop,
    EDGE_NODE_ID: `${spec.pop}-1`,
    EDGE_LAT: String(spec.lat),
    EDGE_LON: String(spec.lon),
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
    EDGE_METRICS_INTERVAL_MS: "250",
    EDGE_CACHE_DIR: freshCacheDir(),
  });
  const ready = await proc.waitForLog((r) => r.msg === "edge node listening");
  return { proc, pop: spec.pop, base: `http://127.0.0.1:${ready.httpPort}` };
}

/** Calls the control plane's API with the admin token. */
export async function api(
  cp: ControlPlane,
  method: string,
  path: string,
  body?: string,
  contentType?: string,
) {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (contentType) headers["content-type"] = contentType;
  const res = await fetch(`${cp.api}${path}`, { method, headers, body: body ?? null });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** A request to `<script>.localhost` on one PoP. */
export async function hit(node: EdgeNodeProc, script: string, path = "/") {
  const res = await requestWithHost(node.base, `${script}.localhost`, path);
  const header = (name: string) => {
    const value = res.headers[name];
    return typeof value === "string" ? value : null;
  };
  return {
    status: res.status,
    pop: header("x-edge-pop"),
    version: header("x-edge-script-version"),
    text: res.text,
  };
}

/** Polls `probe` until it returns true (bounded); returns how long it took. */
export async function eventually(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- Routing (issue 4): the router process and edge nodes on their own loopback addresses ----

export const ROUTER_MAIN = "apps/router/dist/main.js";

/**
 * Like `startEdgeNode`, bound to `host` (e.g. `127.0.0.4`): with each PoP on
 * its own loopback address, DNS answers can tell the PoPs apart.
 */
export async function startEdgeNodeOn(spec: PopSpec, grpcPort: number, host: string): Promise<EdgeNodeProc> {
  const proc = new AppProcess(spec.pop, EDGE_NODE_MAIN, {
    EDGE_POP: spec.pop,
    EDGE_NODE_ID: `${spec.pop}-1`,
    EDGE_LAT: String(spec.lat),
    EDGE_LON: String(spec.lon),
    EDGE_HTTP_HOST: host,
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
    EDGE_METRICS_INTERVAL_MS: "250",
    EDGE_CACHE_DIR: freshCacheDir(),
  });
  const ready = await proc.waitForLog((r) => r.msg === "edge node listening");
  return { proc, pop: spec.pop, base: `http://${host}:${ready.httpPort}` };
}

export interface RouterProc {
  proc: AppProcess;
  /** `http://127.0.0.1:<port>`: send `Host: <script>.localhost`. */
  base: string;
  dnsPort: number;
}

/** Starts the router's built main.js against a control plane; ports 0, a fast poll; `env` adds or overrides. */
export async function startRouter(cp: ControlPlane, env: Record<string, string> = {}): Promise<RouterProc> {
  const proc = new AppProcess("router", ROUTER_MAIN, {
    EDGE_ADMIN_TOKEN: TOKEN,
    EDGE_API_URL: cp.api,
    EDGE_ROUTER_HOST: "127.0.0.1",
    EDGE_ROUTER_PORT: "0",
    EDGE_DNS_HOST: "127.0.0.1",
    EDGE_DNS_PORT: "0",
    EDGE_ROUTER_POLL_MS: "200",
    EDGE_ZONE: "localhost",
    ...env,
  });
  const ready = await proc.waitForLog((r) => r.msg === "router listening");
  return { proc, base: `http://127.0.0.1:${ready.httpPort}`, dnsPort: Number(ready.dnsPort) };
}

/** A request to `<script>.localhost` through the router, with extra headers (`x-edge-client-geo`...). */
export async function viaRouter(
  router: RouterProc,
  script: string,
  headers: Record<string, string> = {},
  path = "/",
) {
  const res = await requestWithHost(router.base, `${script}.localhost`, path, { headers });
  const header = (name: string) => {
    const value = res.headers[name];
    return typeof value === "string" ? value : null;
  };
  return {
    status: res.status,
    pop: header("x-edge-pop"),
    routedTo: header("x-edge-routed-to"),
    note: header("x-edge-route-note"),
    location: header("location"),
    text: res.text,
  };
}
