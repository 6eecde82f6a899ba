import { type IpAddress, type IpNetwork, networkContains, parseCidr, parseIp } from "./ip.js";

/** The proxies whose `X-Forwarded-For` is believed (`EDGE_ROUTER_TRUSTED_PROXIES`). */
export class TrustedProxies {
  readonly networks: readonly IpNetwork[];

  constructor(networks: readonly IpNetwork[]) {
    this.networks = networks;
  }

  /** `"127.0.0.1, 10.0.0.0/8, ::1"`; throws with the bad entry named. */
  static parse(list: string): TrustedProxies {
    const networks = list
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => {
        const parsed = parseCidr(entry);
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.network;
      });
    return new TrustedProxies(networks);
  }

  trusts(ip: IpAddress): boolean {
    return this.networks.some((network) => networkContains(network, ip));
  }
}

export interface ClientIp {
  /** `null` when the socket address itself is unusable. */
  ip: IpAddress | null;
  via: "socket" | "x-forwarded-for";
  /** Why part of `X-Forwarded-For` was not used, if so. */
  note: string | null;
}

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy,
 * in which case `X-Forwarded-For` is walked from the right (the hop the proxy
 * added) past every further trusted proxy. The first untrusted hop is the
 * client; entries left of it could be forged by the client and are ignored.
 */
export function clientIpOf(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): ClientIp {
  const peer = remoteAddress === undefined ? null : parseIp(remoteAddress);
  if (peer === null || !trusted.trusts(peer) || forwardedFor === undefined) {
    return { ip: peer, via: "socket", note: null };
  }
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop.length > 0);
  let client = peer;
  let via: ClientIp["via"] = "socket";
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = parseIp(hops[i] ?? "");
    if (hop === null) {
      return {
        ip: client,
        via,
        note: `X-Forwarded-For entry ${JSON.stringify(hops[i])} is not an IP address`,
      };
    }
    client = hop;
    via = "x-forwarded-for";
    if (!trusted.trusts(hop)) break;
  }
  return { ip: client, via, note: null };
}
