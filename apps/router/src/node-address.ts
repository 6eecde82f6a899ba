import { isIP } from "node:net";

export interface HostPort {
  /** A host name or an IP literal (IPv6 without brackets). */
  host: string;
  port: number;
}

/** Splits a node's advertised `httpAddress` (`127.0.0.3:8103`, `[::1]:8101`, `edge-fra:8101`); `null` if malformed. */
export function parseHostPort(address: string): HostPort | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address.trim());
  if (match === null) return null;
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  if (match[1] !== undefined && isIP(host) !== 6) return null;
  return { host, port };
}

/** `host:port` as a URL authority: IPv6 in brackets. */
export function authorityOf({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
