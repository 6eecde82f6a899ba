import type { ApiClient } from "../api-client.js";
import type { Io } from "../io.js";

interface NodeView {
  pop: string;
  status: string;
  httpAddress: string;
}

export interface ScriptUrls {
  /** One URL per connected PoP (its first connected node), by PoP code. */
  pops: Record<string, string>;
  /** Through the router, which sends each client to the nearest healthy PoP. */
  router: string;
}

/**
 * Where a script answers: `http://<name>.<zone>:<port>/` on each connected
 * PoP's HTTP front, and on the router. The zone is the router URL's host when
 * it is a name (`localhost` for the local cluster), as the nodes and the
 * router serve `<script>.<zone>`.
 */
export async function scriptUrls(api: ApiClient, name: string): Promise<ScriptUrls> {
  const { nodes } = await api.json<{ nodes: NodeView[] }>("GET", "/v1/nodes");
  const router = new URL(api.routerUrl);
  const zone = isIpLiteral(router.hostname) ? "localhost" : router.hostname;
  const pops: Record<string, string> = {};
  for (const node of [...nodes].sort((a, b) => a.pop.localeCompare(b.pop))) {
    if (node.status === "disconnected" || pops[node.pop] !== undefined) continue;
    const port = node.httpAddress.slice(node.httpAddress.lastIndexOf(":") + 1);
    pops[node.pop] = `${router.protocol}//${name}.${zone}${/^\d+$/.test(port) ? `:${port}` : ""}/`;
  }
  const routerHost = isIpLiteral(router.hostname) ? `${name}.${zone}` : `${name}.${router.hostname}`;
  return { pops, router: `${router.protocol}//${routerHost}${router.port ? `:${router.port}` : ""}/` };
}

/** Prints the URLs, one per line: each PoP, then the router. */
export function printScriptUrls(io: Io, urls: ScriptUrls): void {
  const width = Math.max(6, ...Object.keys(urls.pops).map((p) => p.length));
  for (const [pop, url] of Object.entries(urls.pops)) io.out(`  ${pop.padEnd(width)}  ${url}\n`);
  io.out(`  ${"router".padEnd(width)}  ${urls.router}  (nearest PoP)\n`);
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.startsWith("[");
}
