import { requestWithHost } from "@edge/edge-node/testing";
import { type ControlPlane, type EdgeNodeProc, type PopSpec, TOKEN } from "./cluster.js";
import { AppProcess, EDGE_NODE_MAIN } from "./process.js";

/**
 * Workers KV end to end: a script that reads and writes its `KV` binding
 * through its URL, nodes that keep their cache directory (and so their KV
 * replica) across restarts, and the KV API.
 */

export const KV_SCRIPT = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key");
    if (url.pathname === "/put") {
      await env.KV.put(key, url.searchParams.get("value"));
      return new Response("stored");
    }
    const value = await env.KV.get(key);
    return value === null ? new Response("missing", { status: 404 }) : new Response(value);
  },
};`;

/** An edge node on `cacheDir` (kept by the caller, so a restart finds its replica). */
export async function startNodeWithCache(
  spec: PopSpec,
  grpcPort: number,
  cacheDir: string,
): Promise<EdgeNodeProc> {
  const proc = new AppProcess(spec.pop, EDGE_NODE_MAIN, {
    EDGE_POP: spec.pop,
    EDGE_NODE_ID: `${spec.pop}-1`,
    EDGE_LAT: String(spec.lat),
    EDGE_LON: String(spec.lon),
    EDGE_HTTP_HOST: "127.0.0.1",
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
    EDGE_METRICS_INTERVAL_MS: "250",
    EDGE_CACHE_DIR: cacheDir,
    // Two threads: the KV calls of worker-thread isolates go through the main thread.
    EDGE_ISOLATE_THREADS: "2",
  });
  const ready = await proc.waitForLog((r) => r.msg === "edge node listening");
  return { proc, pop: spec.pop, base: `http://127.0.0.1:${ready.httpPort}` };
}

/** The script's view of `key` at one PoP: its value, or null when missing. */
export async function readAt(node: EdgeNodeProc, script: string, key: string): Promise<string | null> {
  const res = await requestWithHost(node.base, `${script}.localhost`, `/get?key=${encodeURIComponent(key)}`);
  if (res.status === 404 && res.text === "missing") return null;
  if (res.status !== 200) throw new Error(`GET ${key} at ${node.pop}: ${res.status} ${res.text}`);
  return res.text;
}

/** A write from the script at one PoP; true when the script answered that it stored it. */
export async function writeAt(
  node: EdgeNodeProc,
  script: string,
  key: string,
  value: string,
): Promise<boolean> {
  const path = `/put?key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`;
  const res = await requestWithHost(node.base, `${script}.localhost`, path).catch(() => null);
  return res?.status === 200 && res.text === "stored";
}

/** PUT a value through the API; true on 200. */
export async function apiPut(cp: ControlPlane, ns: string, key: string, value: string): Promise<boolean> {
  try {
    const res = await fetch(`${cp.api}/v1/kv/namespaces/${ns}/values/${encodeURIComponent(key)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/plain" },
      body: value,
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** GET a value through the API; null on 404. */
export async function apiGet(cp: ControlPlane, ns: string, key: string): Promise<string | null> {
  const res = await fetch(`${cp.api}/v1/kv/namespaces/${ns}/values/${encodeURIComponent(key)}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const text = await res.text();
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`API GET ${key}: ${res.status} ${text}`);
  return text;
}
