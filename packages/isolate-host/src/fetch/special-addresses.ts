import { BlockList, isIP } from "node:net";

/**
 * Address ranges a script's subrequest must not reach unless the operator
 * allows them: this host and its neighbours, not the Internet. Loopback,
 * unspecified, link-local (cloud metadata at 169.254.169.254), private
 * (RFC 1918, unique-local fc00::/7), shared CGNAT space, multicast,
 * broadcast and reserved ranges, and the IETF/benchmarking blocks.
 */
const INTERNAL_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
];
const INTERNAL_V6 = ["::/127", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "100::/64"];

const internal = new BlockList();
for (const range of INTERNAL_V4) {
  const [net, prefix] = range.split("/") as [string, string];
  internal.addSubnet(net, Number(prefix), "ipv4");
}
for (const range of INTERNAL_V6) {
  const [net, prefix] = range.split("/") as [string, string];
  internal.addSubnet(net, Number(prefix), "ipv6");
}

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail), or null. */
function hextets(address: string): number[] | null {
  let text = address.toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const parts = dotted[2]!.split(".").map(Number);
    if (parts.some((part) => part > 255)) return null;
    text = `${dotted[1]}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1]!.split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...Array(fill).fill("0"), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

function v4From(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address reaches: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and
 * Teredo (2001::/32, client address inverted); null for a plain IPv6 address.
 */
export function embeddedIPv4(address: string): string | null {
  const g = hextets(address);
  if (g === null) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4From(g[6]!, g[7]!);
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return v4From(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4From(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4From(g[1]!, g[2]!);
  if (g[0] === 0x2001 && g[1] === 0) return v4From(g[6]! ^ 0xffff, g[7]! ^ 0xffff);
  return null;
}

/** Whether an IP address (v4 or v6, in any form that reaches an IPv4 host) is internal. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedIPv4(address);
  if (v4 !== null && internal.check(v4, "ipv4")) return true;
  return internal.check(address, "ipv6");
}
