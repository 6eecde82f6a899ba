/**
 * A parser for the simplest URLs only: absolute http(s)/ws(s) URLs with an
 * ASCII domain, no credentials, no dot segments and nothing the URL
 * Standard's percent-encode sets would change; and path-absolute references
 * ("/a?b") against such a URL. For these the standard's parser only lowers
 * the host, drops a default port and adds "/" for an empty path, so the
 * components are cut out here without the host round trip (a few
 * microseconds each). Anything else returns null and goes to the host's parser.
 */

/** scheme, host, port, path, query, fragment; each character class excludes what the standard would rewrite. */
const ABSOLUTE =
  /^(https?|wss?):\/\/([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?)(?::([0-9]{1,5}))?(\/[!$-;=@-[\]_a-z|~]*)?(?:\?([!$-&(-;=?-~]*))?(?:#([!#-;=?-_a-~]*))?$/;
const PATH_ABSOLUTE = /^(\/(?![/\\])[!$-;=@-[\]_a-z|~]*)?(?:\?([!$-&(-;=?-~]*))?(?:#([!#-;=?-_a-~]*))?$/;
/** "." and ".." segments (also percent-encoded) are resolved by the parser: leave them to it. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;
/** A last label that is a number makes the host an IPv4 address; "xn--" labels need punycode checks. */
const IPV4_TAIL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)\.?$/i;
const PUNYCODE = /(?:^|\.)xn--/i;
const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443" };

/** Components in the order of src/host/url.ts URL_COMPONENTS. */
function components(
  protocol: string,
  hostname: string,
  port: string,
  path: string | undefined,
  query: string | undefined,
  fragment: string | undefined,
): string[] {
  const host = port === "" ? hostname : `${hostname}:${port}`;
  const pathname = path === undefined || path === "" ? "/" : path;
  const origin = `${protocol}//${host}`;
  let href = origin + pathname;
  if (query !== undefined) href += `?${query}`;
  if (fragment !== undefined) href += `#${fragment}`;
  const search = query === undefined || query === "" ? "" : `?${query}`;
  const hash = fragment === undefined || fragment === "" ? "" : `#${fragment}`;
  return [href, origin, protocol, "", "", host, hostname, port, pathname, search, hash];
}

/** Longer input goes to the host: the patterns are linear, but a long URL gains nothing here. */
const MAX_SIMPLE_LENGTH = 4096;

function parseAbsolute(input: string): string[] | null {
  if (input.length > MAX_SIMPLE_LENGTH) return null;
  const match = ABSOLUTE.exec(input);
  if (match === null) return null;
  const [, scheme, rawHost, rawPort, path, query, fragment] = match as unknown as [
    string,
    string,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (IPV4_TAIL.test(rawHost) || PUNYCODE.test(rawHost)) return null;
  if (path !== undefined && DOT_SEGMENT.test(path)) return null;
  const protocol = `${scheme}:`;
  let port = "";
  if (rawPort !== undefined) {
    const value = Number(rawPort);
    if (value > 65535) return null;
    port = String(value);
    if (port === DEFAULT_PORTS[protocol]) port = "";
  }
  return components(protocol, rawHost.toLowerCase(), port, path, query, fragment);
}

/** The components of `input` (against `base`, components of a URL), or null to ask the host. */
export function parseSimple(input: string, base: readonly string[] | null): string[] | null {
  if (base === null) return parseAbsolute(input);
  const absolute = parseAbsolute(input);
  if (absolute !== null) return absolute;
  if (input.length > MAX_SIMPLE_LENGTH || input.charCodeAt(0) !== 0x2f || !(base[2]! in DEFAULT_PORTS))
    return null;
  // Only a base this parser could have produced itself (no credentials, ASCII domain).
  if (base[3] !== "" || base[4] !== "" || parseAbsolute(base[0]!) === null) return null;
  const match = PATH_ABSOLUTE.exec(input);
  if (match === null) return null;
  const [, path, query, fragment] = match as unknown as [
    string,
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (path === undefined || DOT_SEGMENT.test(path)) return null;
  return components(base[2]!, base[6]!, base[7]!, path, query, fragment);
}
