import { BlockList, isIP } from "node:net";
import { embeddedIPv4 } from "./special-addresses.js";

/**
 * Where scripts' subrequests may not go: host names, IP addresses or CIDR
 * ranges, each optionally with a port ("localhost", "10.0.0.0/8",
 * "127.0.0.1:50051", "[::1]:8080", "control.internal:443"). Addresses are
 * checked after DNS resolution too, so a name pointing at a forbidden address
 * is refused as well.
 */
export class ForbiddenTargets {
  readonly #hosts: Array<{ host: string; port: number | null }> = [];
  readonly #nets: Array<{ list: BlockList; port: number | null }> = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) this.#add(entry);
  }

  /** Whether the entry list names this host (by name, before DNS) on this port. */
  hostListed(host: string, port: number): boolean {
    const name = normaliseHost(host);
    return this.#hosts.some((entry) => entry.host === name && (entry.port === null || entry.port === port));
  }

  get empty(): boolean {
    return this.#hosts.length === 0 && this.#nets.length === 0;
  }

  /** Whether a host name as written in the URL (before DNS) is forbidden on this port. */
  hostForbidden(host: string, port: number): boolean {
    const name = normaliseHost(host);
    if (isIP(name) !== 0) return this.addressForbidden(name, port);
    return this.#hosts.some((entry) => entry.host === name && (entry.port === null || entry.port === port));
  }

  /** Whether a resolved address is forbidden on this port. */
  addressForbidden(address: string, port: number): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 6 ? "ipv6" : "ipv4";
    // An IPv4-mapped (or compatible, NAT64, 6to4) IPv6 address reaches the IPv4 host.
    const mapped = family === 6 ? (embeddedIPv4(address) ?? undefined) : undefined;
    return this.#nets.some(
      (entry) =>
        (entry.port === null || entry.port === port) &&
        (entry.list.check(address, type) || (mapped !== undefined && entry.list.check(mapped, "ipv4"))),
    );
  }

  #add(raw: string): void {
    const entry = raw.trim().toLowerCase();
    if (entry === "") return;
    const { host, port } = splitPort(entry);
    const cidr = /^(.+)\/(\d{1,3})$/.exec(host);
    if (cidr !== null) {
      const [, network, prefix] = cidr as unknown as [string, string, string];
      const family = isIP(network);
      if (family === 0) throw new Error(`Invalid forbidden fetch target '${raw}'`);
      const list = new BlockList();
      list.addSubnet(network, Number(prefix), family === 6 ? "ipv6" : "ipv4");
      this.#nets.push({ list, port });
      return;
    }
    const family = isIP(host);
    if (family !== 0) {
      const list = new BlockList();
      list.addAddress(host, family === 6 ? "ipv6" : "ipv4");
      this.#nets.push({ list, port });
      return;
    }
    if (!/^[a-z0-9.-]+$/.test(host)) throw new Error(`Invalid forbidden fetch target '${raw}'`);
    this.#hosts.push({ host: host.replace(/\.$/, ""), port });
  }
}

function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
}

/** "host:port", "[v6]:port", "v6", "cidr" -> host and optional port. */
function splitPort(entry: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1]!, port: portOf(bracketed[2], entry) };
  const colons = entry.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(":") as [string, string];
    return { host, port: portOf(port, entry) };
  }
  return { host: entry, port: null };
}

function portOf(text: string | undefined, entry: string): number | null {
  if (text === undefined) return null;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`Invalid port in forbidden fetch target '${entry}'`);
  return port;
}
