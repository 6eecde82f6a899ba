import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { parseHostPort } from "../node-address.js";

export interface NodeAddresses {
  v4: string[];
  v6: string[];
}

export type HostResolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

const UNSPECIFIED = new Set(["0.0.0.0", "::"]);

function split(addresses: Array<{ address: string; family: number }>): NodeAddresses {
  const usable = addresses.filter((a) => !UNSPECIFIED.has(a.address));
  return {
    v4: usable.filter((a) => a.family === 4).map((a) => a.address),
    v6: usable.filter((a) => a.family === 6).map((a) => a.address),
  };
}

/**
 * The addresses a DNS answer gives for a node, from its advertised
 * `httpAddress` (the port is dropped: DNS cannot carry it). An IP literal is
 * used as is. A host name (`edge-fra:8101` in compose) is resolved by this
 * machine's resolver and cached for `ttlMs`: the answer is only useful to
 * clients that reach the same addresses, so a public deployment advertises
 * public addresses. Unspecified addresses (`0.0.0.0`) are never answered.
 */
export function createNodeAddressBook(
  ttlMs: number,
  resolve: HostResolver = (host) => lookup(host, { all: true }),
) {
  const cache = new Map<string, { at: number; value: Promise<NodeAddresses> }>();
  return {
    addressesOf(httpAddress: string): Promise<NodeAddresses> {
      const target = parseHostPort(httpAddress);
      if (target === null) return Promise.resolve({ v4: [], v6: [] });
      const family = isIP(target.host);
      if (family !== 0) return Promise.resolve(split([{ address: target.host, family }]));
      const hit = cache.get(target.host);
      if (hit !== undefined && Date.now() - hit.at < ttlMs) return hit.value;
      const value = resolve(target.host).then(split, () => ({ v4: [], v6: [] }));
      cache.set(target.host, { at: Date.now(), value });
      return value;
    },
  };
}

export type NodeAddressBook = ReturnType<typeof createNodeAddressBook>;
