import { parseClientGeoHeader } from "./client-geo-header.js";
import type { GeoPoint } from "./geo-point.js";
import type { GeoSource } from "./geo-source.js";
import { type IpAddress, parseIp } from "./ip.js";

export type LocationSource = "header" | "mmdb" | "cidr";

/** Where the client is, which source said so, and why earlier sources were passed over. */
export interface ClientLocation {
  point: GeoPoint | null;
  source: LocationSource | null;
  /** The address that was looked up, if any. */
  ip: string | null;
  /** The network that matched (`203.0.113.0/24`), for IP-based locations. */
  network: string | null;
  prefixLength: number | null;
  label: string | null;
  /** Sources that were present but unusable, in order: bad header, unknown IP... */
  notes: string[];
}

export interface LocateInput {
  /** The raw `x-edge-client-geo` value, if the request had one. */
  geoHeader?: string | undefined;
  /** The client's address (already resolved through trusted proxies). */
  ip?: IpAddress | string | null | undefined;
}

/**
 * Locates a client from, in order: the explicit `x-edge-client-geo` header,
 * then its IP address in each geo source in turn (the MMDB file first, then
 * the operator's CIDR table, so the table can cover what the database does
 * not know, such as private ranges). Never throws: bad input becomes a note.
 */
export function locateClient(input: LocateInput, sources: readonly GeoSource[]): ClientLocation {
  const notes: string[] = [];
  const ip = typeof input.ip === "string" ? parseIp(input.ip) : (input.ip ?? null);
  const base = { ip: ip?.text ?? null, network: null, prefixLength: null, label: null };

  if (input.geoHeader !== undefined) {
    const parsed = parseClientGeoHeader(input.geoHeader);
    if (parsed.ok) return { ...base, point: parsed.point, source: "header", notes };
    notes.push(`x-edge-client-geo ignored: ${parsed.reason}`);
  }

  if (typeof input.ip === "string" && ip === null) {
    notes.push(`${JSON.stringify(input.ip)} is not an IP address`);
  } else if (ip !== null) {
    for (const source of sources) {
      const match = source.lookup(ip);
      if (match !== null) {
        return {
          point: match.point,
          source: source.kind,
          ip: ip.text,
          network: match.network,
          prefixLength: match.prefixLength,
          label: match.label,
          notes,
        };
      }
    }
    notes.push(
      sources.length === 0
        ? `no geo source is configured to locate ${ip.text}`
        : `no geo data for ${ip.text}`,
    );
  }
  return { ...base, point: null, source: null, notes };
}
