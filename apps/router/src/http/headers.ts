import type { IncomingHttpHeaders } from "node:http";

/** RFC 9110 §7.6.1 connection-specific fields, plus `expect` (the router answers 100-continue itself). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

/** Fields named in `Connection: a, b` are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  const tokens = (Array.isArray(value) ? value.join(",") : (value ?? "")).split(",");
  return new Set(tokens.map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0));
}

/**
 * The end-to-end fields of a message, as flat `[name, value, ...]` pairs in
 * their original case and order (so repeated fields such as `set-cookie`
 * stay separate).
 */
export function endToEndHeaders(
  rawHeaders: readonly string[],
  headers: IncomingHttpHeaders,
  drop: readonly string[] = [],
): string[] {
  const skip = new Set([...HOP_BY_HOP, ...connectionTokens(headers), ...drop]);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (!skip.has(name.toLowerCase())) out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** A header-safe rendering of free text (notes quote client input): printable ASCII only, bounded. */
export function headerText(text: string, max = 300): string {
  const safe = text.replace(/[^\x20-\x7e]/g, "?");
  return safe.length > max ? `${safe.slice(0, max - 3)}...` : safe;
}
