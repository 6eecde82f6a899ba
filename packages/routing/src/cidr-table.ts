import { readFile } from "node:fs/promises";
import { z } from "zod";
import { RoutingError } from "./errors.js";
import { isGeoPoint } from "./geo-point.js";
import type { GeoMatch, GeoSource } from "./geo-source.js";
import { type IpAddress, type IpNetwork, networkContains, parseCidr } from "./ip.js";

/**
 * The operator's CIDR → location table (`EDGE_GEO_CIDR_FILE`), a JSON array:
 * `[{ "cidr": "203.0.113.0/24", "lat": 1.35, "lon": 103.82, "label": "SG office" }]`.
 */
export const cidrTableSchema = z.array(
  z
    .object({
      cidr: z.string().min(1),
      lat: z.number().min(-90).max(90),
      lon: z.number().min(-180).max(180),
      label: z.string().max(200).optional(),
    })
    .strict(),
);

export type CidrTableEntry = z.infer<typeof cidrTableSchema>[number];

interface Row {
  network: IpNetwork;
  match: GeoMatch;
}

/**
 * Longest-prefix match over the operator's networks, IPv4 and IPv6. A linear
 * scan over rows sorted by prefix length: operator tables hold tens of rows,
 * not the millions an MMDB file does.
 */
export class CidrTable implements GeoSource {
  readonly kind = "cidr";
  readonly #rows: Row[];

  /** Throws `EDGE_INVALID_CONFIG` naming the first bad entry. */
  constructor(entries: readonly CidrTableEntry[]) {
    this.#rows = entries.map((entry, index) => {
      const parsed = parseCidr(entry.cidr);
      if (!parsed.ok)
        throw new RoutingError("EDGE_INVALID_CONFIG", `CIDR table entry ${index}: ${parsed.reason}`);
      if (!isGeoPoint(entry))
        throw new RoutingError("EDGE_INVALID_CONFIG", `CIDR table entry ${index}: bad coordinates`);
      const { network } = parsed;
      return {
        network,
        match: {
          point: { lat: entry.lat, lon: entry.lon },
          network: network.text,
          prefixLength: network.prefixLength,
          label: entry.label ?? null,
        },
      };
    });
    // Stable sort: for two rows with the same network the first one listed wins.
    this.#rows.sort((a, b) => b.network.prefixLength - a.network.prefixLength);
  }

  get size(): number {
    return this.#rows.length;
  }

  lookup(ip: IpAddress): GeoMatch | null {
    return this.#rows.find((row) => networkContains(row.network, ip))?.match ?? null;
  }
}

/** Validates unknown JSON as a CIDR table. Throws `EDGE_INVALID_CONFIG` with the path of the first problem. */
export function cidrTableFromJson(json: unknown, origin = "CIDR table"): CidrTable {
  const parsed = cidrTableSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length > 0 ? `entry ${issue.path.join(".")}` : "top level"}: ${issue.message}`,
    );
    throw new RoutingError("EDGE_INVALID_CONFIG", `${origin}: ${problems.join("; ")}`);
  }
  return new CidrTable(parsed.data);
}

/** Reads and validates a CIDR table file. */
export async function loadCidrTableFile(path: string): Promise<CidrTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new RoutingError("EDGE_INVALID_CONFIG", `cannot read the CIDR table ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RoutingError("EDGE_INVALID_CONFIG", `the CIDR table ${path} is not valid JSON`, { cause });
  }
  return cidrTableFromJson(json, `the CIDR table ${path}`);
}
