import type { GeoPoint } from "./geo-point.js";

/** The header a client (or a test) sets to say where it is: `lat,lon` in decimal degrees. */
export const CLIENT_GEO_HEADER = "x-edge-client-geo";

export type GeoHeaderResult = { ok: true; point: GeoPoint } | { ok: false; reason: string };

// Plain decimal numbers only: no exponents, hex, "Infinity" or empty parts, which Number() would accept.
const DECIMAL = String.raw`[+-]?\d{1,3}(?:\.\d{1,12})?`;
const PATTERN = new RegExp(String.raw`^\s*(${DECIMAL})\s*,\s*(${DECIMAL})\s*$`);

/**
 * Strict parse of `x-edge-client-geo: <lat>,<lon>`. Anything else (two headers
 * joined by a comma, degrees out of range, extra parts) is refused with a
 * reason, so the caller can fall back to the next source and say why.
 */
export function parseClientGeoHeader(value: string): GeoHeaderResult {
  if (value.length > 64) return { ok: false, reason: "longer than 64 characters" };
  const match = PATTERN.exec(value);
  if (match === null)
    return { ok: false, reason: `expected "<lat>,<lon>" in decimal degrees, got ${JSON.stringify(value)}` };
  const lat = Number(match[1]);
  const lon = Number(match[2]);
  if (Math.abs(lat) > 90) return { ok: false, reason: `latitude ${lat} is outside -90..90` };
  if (Math.abs(lon) > 180) return { ok: false, reason: `longitude ${lon} is outside -180..180` };
  return { ok: true, point: { lat, lon } };
}
