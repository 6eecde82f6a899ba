import { isIP } from "node:net";

/** An IP address as a number, so networks can be matched with shifts. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  text: string;
}

export interface IpNetwork {
  family: 4 | 6;
  /** The network address (host bits zero). */
  base: bigint;
  prefixLength: number;
  /** `base/prefixLength` in canonical text. */
  text: string;
}

const bitsOf = (family: 4 | 6) => (family === 4 ? 32 : 128);
const MAPPED_V4_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint {
  return text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseIpv6(text: string): bigint {
  let head = text;
  let tail: bigint[] = [];
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  const lastColon = head.lastIndexOf(":");
  if (head.includes(".", lastColon)) {
    const v4 = parseIpv4(head.slice(lastColon + 1));
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = head.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left = "", right] = head.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => BigInt(Number.parseInt(g, 16))));
  const leftGroups = groups(left);
  const rightGroups = [...(right === undefined ? [] : groups(right)), ...tail];
  const missing = 8 - leftGroups.length - rightGroups.length;
  const all =
    right === undefined
      ? [...leftGroups, ...tail]
      : [...leftGroups, ...Array(missing).fill(0n), ...rightGroups];
  return all.reduce((acc: bigint, g: bigint) => (acc << 16n) | g, 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

function address(family: 4 | 6, value: bigint): IpAddress {
  return { family, value, text: family === 4 ? formatIpv4(value) : formatIpv6(value) };
}

/**
 * Parses an IPv4 or IPv6 address; `null` if it is not one. IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports) becomes the IPv4
 * address, and an IPv6 zone (`%eth0`) is dropped.
 */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  const bare = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  const withoutZone = bare.includes("%") ? bare.slice(0, bare.indexOf("%")) : bare;
  const family = isIP(withoutZone);
  if (family === 4) return address(4, parseIpv4(withoutZone));
  if (family !== 6) return null;
  const value = parseIpv6(withoutZone.toLowerCase());
  if (value >> 32n === MAPPED_V4_PREFIX >> 32n) return address(4, value & 0xffffffffn);
  return address(6, value);
}

/** The network of `prefixLength` bits that holds `ip`. */
export function networkOf(ip: IpAddress, prefixLength: number): IpNetwork {
  const hostBits = BigInt(bitsOf(ip.family) - prefixLength);
  const base = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, base, prefixLength, text: `${address(ip.family, base).text}/${prefixLength}` };
}

export function networkContains(network: IpNetwork, ip: IpAddress): boolean {
  if (network.family !== ip.family) return false;
  const hostBits = BigInt(bitsOf(ip.family) - network.prefixLength);
  return ip.value >> hostBits === network.base >> hostBits;
}

export type CidrResult = { ok: true; network: IpNetwork } | { ok: false; reason: string };

/**
 * Parses `192.0.2.0/24` or `2001:db8::/32`; a bare address is a single-host
 * network. Host bits set (`10.1.2.3/8`) are refused rather than silently
 * masked: in an operator's table that is more likely a typo than intent.
 */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf("/");
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === null)
    return { ok: false, reason: `${JSON.stringify(text)} is not an IP address or CIDR network` };
  const max = bitsOf(ip.family);
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return { ok: false, reason: `${JSON.stringify(text)}: the prefix length must be 0..${max}` };
  }
  const network = networkOf(ip, Number(prefixText));
  if (network.base !== ip.value) {
    return {
      ok: false,
      reason: `${JSON.stringify(text)} has host bits set (the network is ${network.text})`,
    };
  }
  return { ok: true, network };
}
