import { type Hello, parseReleaseKey } from "@edge/protocol";
import { SCRIPT_NAME_PATTERN } from "../routes/scripts/params.js";

/** Node ids and PoP codes: what DNS labels, metrics labels and logs can all carry. */
export const NODE_ID_PATTERN = /^[a-z0-9-]{1,63}$/;

/** Most scripts a hello may say the node holds or rejected (each map). */
export const MAX_HELLO_RELEASES = 10_000;

const MAX_AGENT_VERSION_LENGTH = 64;
const MAX_HTTP_ADDRESS_LENGTH = 300;

/**
 * Checks a node's hello before anything of it is stored or shared: a rogue or
 * broken node is refused (a gRPC status naming the field), never recorded.
 * Returns the problem, or null when the hello is sound.
 */
export function helloProblem(hello: Hello): string | null {
  if (!NODE_ID_PATTERN.test(hello.nodeId)) return "hello.node_id must be 1-63 characters of a-z, 0-9 and '-'";
  if (!NODE_ID_PATTERN.test(hello.pop)) return "hello.pop must be 1-63 characters of a-z, 0-9 and '-'";
  if (!inRange(hello.lat, 90)) return "hello.lat must be a finite number from -90 to 90";
  if (!inRange(hello.lon, 180)) return "hello.lon must be a finite number from -180 to 180";
  if (!isHttpAddress(hello.httpAddress)) {
    return "hello.http_address must be host:port or an http(s) URL";
  }
  if (hello.agentVersion.length > MAX_AGENT_VERSION_LENGTH || !/^[\x20-\x7e]*$/.test(hello.agentVersion)) {
    return `hello.agent_version must be at most ${MAX_AGENT_VERSION_LENGTH} printable ASCII characters`;
  }
  for (const [field, map] of [
    ["held_releases", hello.heldReleases],
    ["rejected_releases", hello.rejectedReleases],
  ] as const) {
    const entries = Object.entries(map);
    if (entries.length > MAX_HELLO_RELEASES)
      return `hello.${field} lists more than ${MAX_HELLO_RELEASES} scripts`;
    for (const [name, key] of entries) {
      if (!SCRIPT_NAME_PATTERN.test(name) || parseReleaseKey(key) === null) {
        return `hello.${field} has an invalid entry`;
      }
    }
  }
  const versions = Object.entries(hello.heldVersions);
  if (versions.length > MAX_HELLO_RELEASES)
    return `hello.held_versions lists more than ${MAX_HELLO_RELEASES} scripts`;
  if (versions.some(([name]) => !SCRIPT_NAME_PATTERN.test(name)))
    return "hello.held_versions has an invalid entry";
  return null;
}

function inRange(value: number, limit: number): boolean {
  return Number.isFinite(value) && value >= -limit && value <= limit;
}

/**
 * `host:port` (a DNS name, IPv4, or a bracketed IPv6 address) or an `http:` /
 * `https:` URL with no credentials: what the router proxies to and DNS answers with.
 */
export function isHttpAddress(value: string): boolean {
  if (value.length === 0 || value.length > MAX_HTTP_ADDRESS_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    return false;
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      return url.hostname !== "" && url.username === "" && url.password === "" && isHost(url.hostname);
    } catch {
      return false;
    }
  }
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(value);
  if (!match) return false;
  const port = Number(match[2]);
  return port >= 1 && port <= 65_535 && isHost(match[1]!);
}

function isHost(host: string): boolean {
  if (host.startsWith("[")) return true;
  return (
    host.length <= 253 &&
    host.split(".").every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))
  );
}
