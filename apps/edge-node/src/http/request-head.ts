import type { IncomingMessage } from "node:http";
import { HOP_HEADER, MAX_HOPS } from "@edge/isolate-host";

/** Why a request head is refused before any script is looked up. */
export type HeadProblem =
  | { code: "EDGE_BAD_HOST"; message: string }
  | { code: "EDGE_METHOD_NOT_ALLOWED"; message: string }
  | { code: "EDGE_LOOP_DETECTED"; message: string };

/** Methods the Fetch standard forbids: no `Request` can carry them, so no script could answer. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Checks what the front needs from a request head: exactly one Host header
 * whose port (if any) is a real port, a method a script can receive, and the hop count (see the isolate
 * host's HOP_HEADER) below MAX_HOPS. Returns the hop count, or the problem.
 */
export function checkRequestHead(req: IncomingMessage): { hops: number } | HeadProblem {
  let hosts = 0;
  let hops = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (name === "host") hosts++;
    else if (name === HOP_HEADER) {
      const value = Number(req.rawHeaders[i + 1]);
      // A nonsense count is treated as the most hops: only a script's own loop would send one.
      hops = Math.max(hops, Number.isSafeInteger(value) && value >= 0 ? value : MAX_HOPS);
    }
  }
  if (hosts > 1) return { code: "EDGE_BAD_HOST", message: "the request has more than one Host header" };
  if (FORBIDDEN_METHODS.has((req.method ?? "").toUpperCase())) {
    return { code: "EDGE_METHOD_NOT_ALLOWED", message: `the method ${req.method} is not allowed` };
  }
  const port = /:(\d+)$/.exec(req.headers.host ?? "")?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    return { code: "EDGE_BAD_HOST", message: `the Host header's port ${port} is not a valid port` };
  }
  if (hops >= MAX_HOPS) {
    return {
      code: "EDGE_LOOP_DETECTED",
      message: `the request went through ${hops} edge scripts (at most ${MAX_HOPS - 1}): a fetch loop`,
    };
  }
  return { hops };
}

/** Request headers as the script sees them: lower-cased pairs, without the hop header. */
export function scriptHeaders(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name !== HOP_HEADER) pairs.push([name, raw[i + 1] as string]);
  }
  return pairs;
}
