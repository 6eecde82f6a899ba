import { open } from "maxmind";
import { RoutingError } from "./errors.js";
import { isGeoPoint } from "./geo-point.js";
import type { GeoMatch, GeoSource } from "./geo-source.js";
import { type IpAddress, networkOf } from "./ip.js";

/** The part of a GeoLite2-City / DB-IP City record routing reads. */
interface CityRecord {
  location?: { latitude?: unknown; longitude?: unknown };
  city?: { names?: Record<string, unknown> };
  country?: { iso_code?: unknown };
}

function labelOf(record: CityRecord): string | null {
  const city = record.city?.names?.en;
  const country = record.country?.iso_code;
  const parts = [city, country].filter((p): p is string => typeof p === "string" && p.length > 0);
  return parts.length > 0 ? parts.join(", ") : null;
}

/**
 * An MMDB city database (GeoLite2-City, DB-IP City Lite, or one a test built)
 * read through the `maxmind` package. Records without `location` (country-only
 * databases, unknown networks) count as no match.
 */
export async function openMmdbSource(path: string): Promise<GeoSource> {
  let reader: Awaited<ReturnType<typeof open>>;
  try {
    reader = await open(path);
  } catch (cause) {
    throw new RoutingError("EDGE_INVALID_CONFIG", `cannot open the MMDB file ${path}`, { cause });
  }
  return {
    kind: "mmdb",
    lookup(ip: IpAddress): GeoMatch | null {
      let found: [CityRecord | null, number];
      try {
        // Records are checked field by field below: a file is outside data, whatever its metadata says.
        found = reader.getWithPrefixLength(ip.text) as [CityRecord | null, number];
      } catch {
        // An IPv6 address against an IPv4-only database: not an error, just unknown.
        return null;
      }
      const [record, prefixLength] = found;
      const lat = record?.location?.latitude;
      const lon = record?.location?.longitude;
      if (record === null || typeof lat !== "number" || typeof lon !== "number") return null;
      if (!isGeoPoint({ lat, lon })) return null;
      return {
        point: { lat, lon },
        network: networkOf(ip, prefixLength).text,
        prefixLength,
        label: labelOf(record),
      };
    },
  };
}
