import { z } from "zod";
import { RoutingError } from "./errors.js";

/**
 * The routing variables, shared by every process that routes or explains a
 * route (the router; the control plane's `GET /v1/route`):
 *
 * | Variable                       | Default | Meaning                                                        |
 * |--------------------------------|---------|----------------------------------------------------------------|
 * | `EDGE_GEO_MMDB`                | unset   | path of an MMDB city database (GeoLite2-City, DB-IP City Lite) |
 * | `EDGE_GEO_CIDR_FILE`           | unset   | path of a JSON CIDR → location table                           |
 * | `EDGE_DEFAULT_POP`             | unset   | PoP for clients that cannot be located                         |
 * | `EDGE_ROUTING_LOAD_PENALTY_KM` | `0`     | km added per in-flight request (0: distance only)              |
 * | `EDGE_ROUTING_MAX_IN_FLIGHT`   | `0`     | skip nodes serving this many requests (0: no cap)              |
 */
export interface RoutingSettings {
  geoMmdb: string | null;
  geoCidrFile: string | null;
  defaultPop: string | null;
  loadPenaltyKm: number;
  maxInFlight: number;
}

const path = z.string().trim().min(1);

const schema = z.object({
  EDGE_GEO_MMDB: path.optional(),
  EDGE_GEO_CIDR_FILE: path.optional(),
  EDGE_DEFAULT_POP: z
    .string()
    .trim()
    .regex(/^[a-z0-9-]{1,32}$/, "a PoP code such as fra")
    .optional(),
  EDGE_ROUTING_LOAD_PENALTY_KM: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, "expected a number of km, 0 or more")
    .transform(Number)
    .default(0),
  EDGE_ROUTING_MAX_IN_FLIGHT: z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .default(0),
});

/** Every variable `loadRoutingSettings` reads. */
export const ROUTING_ENV_VARS: readonly string[] = Object.keys(schema.shape);

/** Parses the routing variables once; throws `EDGE_INVALID_CONFIG` naming each bad one. Empty counts as unset. */
export function loadRoutingSettings(env: NodeJS.ProcessEnv = process.env): RoutingSettings {
  const present = Object.fromEntries(
    ROUTING_ENV_VARS.map((key) => [key, env[key]] as const).filter(
      ([, value]) => value !== undefined && value !== "",
    ),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
    throw new RoutingError("EDGE_INVALID_CONFIG", `Invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  return {
    geoMmdb: e.EDGE_GEO_MMDB ?? null,
    geoCidrFile: e.EDGE_GEO_CIDR_FILE ?? null,
    defaultPop: e.EDGE_DEFAULT_POP ?? null,
    loadPenaltyKm: e.EDGE_ROUTING_LOAD_PENALTY_KM,
    maxInFlight: e.EDGE_ROUTING_MAX_IN_FLIGHT,
  };
}
