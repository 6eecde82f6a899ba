import type { GeoPoint } from "./geo-point.js";
import type { IpAddress } from "./ip.js";

/** Where a client's IP address is on the map, and how wide the match was. */
export interface GeoMatch {
  point: GeoPoint;
  /** The network that matched, e.g. `203.0.113.0/24`. */
  network: string;
  /** Its prefix length: the scope a DNS answer based on this match holds for (RFC 7871). */
  prefixLength: number;
  /** A human label when the source has one (a city, an operator's note). */
  label: string | null;
}

/** The seam for IP geolocation: an MMDB file, the operator's CIDR table, or anything else. */
export interface GeoSource {
  readonly kind: "mmdb" | "cidr";
  lookup(ip: IpAddress): GeoMatch | null;
}
