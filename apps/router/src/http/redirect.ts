import type { HostPort } from "../node-address.js";

export interface RedirectTarget {
  /** The request's host name (`hello.localhost`). */
  hostname: string;
  /** Its script label (`hello`). */
  script: string;
  pop: string;
  node: HostPort;
  /** The node's `httpAddress` as advertised. */
  address: string;
  /** Path and query, `redirect` removed. */
  path: string;
}

/**
 * Fills the `EDGE_ROUTER_REDIRECT_URL` template: `{hostname}`, `{script}`,
 * `{port}`, `{pop}`, `{address}`, `{path}`. The default
 * `http://{hostname}:{port}{path}` keeps the host name (the node picks the
 * script by it) and moves to the PoP's port: right for the local cluster,
 * where `*.localhost` is loopback and each PoP has its own port. A deployment
 * where each PoP has a public name sets e.g.
 * `https://{script}.{pop}.edge.example.net{path}` (with `EDGE_ZONE=<pop>.edge.example.net` on each node).
 */
export function redirectLocation(template: string, target: RedirectTarget): string {
  const values: Record<string, string> = {
    hostname: target.hostname,
    script: target.script,
    port: String(target.node.port),
    pop: target.pop,
    address: target.address,
    path: target.path,
  };
  return template.replace(
    /\{(hostname|script|port|pop|address|path)\}/g,
    (_, key: string) => values[key] ?? "",
  );
}

/** The request target without the `redirect` query parameter. */
export function pathWithoutRedirect(url: URL): string {
  const params = new URLSearchParams(url.search);
  params.delete("redirect");
  const query = params.toString();
  return `${url.pathname}${query ? `?${query}` : ""}`;
}
