import type { IpAddress } from "@edge/routing";
import { parseIp } from "@edge/routing";
import type { PacketOpt } from "dns-packet";

/** EDNS option code of Client Subnet (RFC 7871). */
export const CLIENT_SUBNET_CODE = 8;

export interface ClientSubnet {
  /** 1 = IPv4, 2 = IPv6 (IANA address family numbers). */
  family: 1 | 2;
  sourcePrefixLength: number;
  /** The ADDRESS octets exactly as sent, echoed back unchanged. */
  addressBytes: Buffer;
  /** The address padded to full length, for geo lookup. */
  ip: IpAddress;
}

export type ClientSubnetResult =
  | { kind: "absent" }
  | { kind: "present"; subnet: ClientSubnet }
  | { kind: "invalid"; reason: string };

/**
 * Reads and checks the ECS option of a query (RFC 7871 §6): a known family,
 * a source prefix within it, exactly ceil(prefix/8) address octets and no bits
 * set beyond the prefix. Anything else is `invalid`: the server answers FORMERR.
 */
export function readClientSubnet(options: readonly PacketOpt[]): ClientSubnetResult {
  const found = options.filter((o) => o.code === CLIENT_SUBNET_CODE);
  if (found.length === 0) return { kind: "absent" };
  if (found.length > 1) return { kind: "invalid", reason: "more than one ECS option" };
  const data = found[0]?.data;
  if (data === undefined || data.length < 4)
    return { kind: "invalid", reason: "ECS option shorter than 4 octets" };
  const family = data.readUInt16BE(0);
  const sourcePrefixLength = data.readUInt8(2);
  const addressBytes = Buffer.from(data.subarray(4));
  if (family !== 1 && family !== 2) return { kind: "invalid", reason: `unknown ECS family ${family}` };
  const bytes = family === 1 ? 4 : 16;
  if (sourcePrefixLength > bytes * 8)
    return { kind: "invalid", reason: `ECS source prefix /${sourcePrefixLength} too long` };
  if (addressBytes.length !== Math.ceil(sourcePrefixLength / 8)) {
    return { kind: "invalid", reason: "ECS address length does not match its source prefix" };
  }
  const spare = addressBytes.length * 8 - sourcePrefixLength;
  const last = addressBytes.at(-1);
  if (spare > 0 && last !== undefined && (last & ((1 << spare) - 1)) !== 0) {
    return { kind: "invalid", reason: "ECS address has bits set beyond its source prefix" };
  }
  const padded = Buffer.alloc(bytes);
  addressBytes.copy(padded);
  const text = family === 1 ? [...padded].join(".") : (padded.toString("hex").match(/.{4}/g) ?? []).join(":");
  const ip = parseIp(text);
  if (ip === null) return { kind: "invalid", reason: "ECS address unreadable" };
  // `::ffff:a.b.c.d` in an IPv6 ECS is located as IPv4, but echoed exactly as sent.
  return { kind: "present", subnet: { family, sourcePrefixLength, addressBytes, ip } };
}

/** The ECS option of a response: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as in the query, our SCOPE (RFC 7871 §7.2.1). */
export function echoClientSubnet(subnet: ClientSubnet, scopePrefixLength: number): PacketOpt {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(subnet.family, 0);
  header.writeUInt8(subnet.sourcePrefixLength, 2);
  header.writeUInt8(scopePrefixLength, 3);
  return { code: CLIENT_SUBNET_CODE, ip: undefined, data: Buffer.concat([header, subnet.addressBytes]) };
}
