import {
  type ClientLocation,
  chooseNode,
  type GeoSource,
  isRoutingError,
  openGeoSources,
  parseIp,
  type RoutingSettings,
  routeClient,
} from "@edge/routing";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../errors.js";
import type { RouteDeps } from "./types.js";
import { parseQuery } from "./validation.js";

/** What `GET /v1/route` routes with: the same settings and geo data as the router. */
export interface RoutingContext {
  settings: RoutingSettings;
  sources: GeoSource[];
}

export interface RouteExplainOptions extends RouteDeps {
  /** Given by tests; otherwise opened once, at registration, from `config.routing`. */
  routing?: RoutingContext;
}

const degrees = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d{1,3}(?:\.\d{1,12})?$/, "expected decimal degrees")
    .transform(Number)
    .pipe(z.number().min(-max).max(max));

const routeQuery = z
  .object({
    ip: z
      .string()
      .trim()
      .refine((ip) => parseIp(ip) !== null, "not an IPv4 or IPv6 address")
      .optional(),
    lat: degrees(90).optional(),
    lon: degrees(180).optional(),
  })
  .refine(
    (q) => (q.ip !== undefined) !== (q.lat !== undefined || q.lon !== undefined),
    "give either ip, or lat and lon",
  )
  .refine((q) => (q.lat === undefined) === (q.lon === undefined), "lat and lon go together");

async function routingFrom(settings: RoutingSettings): Promise<RoutingContext> {
  try {
    return { settings, sources: await openGeoSources(settings) };
  } catch (err) {
    throw isRoutingError(err) ? new EdgeError("EDGE_INVALID_CONFIG", err.message, { cause: err }) : err;
  }
}

/** A location given in the query explains like any other, with `source: "query"`. */
type ExplainedLocation = Omit<ClientLocation, "source"> & { source: ClientLocation["source"] | "query" };

/**
 * `GET /v1/route?ip=…` or `?lat=…&lon=…`: which node would serve that client
 * and why — the location and where it came from, every candidate with its
 * distance, health, load and rank or skip reason, and the winner — computed
 * by `@edge/routing` exactly as the router computes it. With no healthy node
 * the answer is still 200, with `winner: null` and the reason in `summary`
 * (the router answers 503 `EDGE_NO_HEALTHY_NODE` in that case).
 */
export const routeRoutes: FastifyPluginAsync<RouteExplainOptions> = async (app, options) => {
  const routing = options.routing ?? (await routingFrom(options.config.routing));
  const { settings, sources } = routing;

  app.get("/route", async (request) => {
    const query = parseQuery(routeQuery, request.query);
    const nodes = options.hub.nodes();
    let location: ExplainedLocation;
    let choice: ReturnType<typeof chooseNode>;
    if (query.lat !== undefined && query.lon !== undefined) {
      const point = { lat: query.lat, lon: query.lon };
      location = {
        point,
        source: "query",
        ip: null,
        network: null,
        prefixLength: null,
        label: null,
        notes: [],
      };
      choice = chooseNode(nodes, point, settings);
    } else {
      ({ location, choice } = routeClient(nodes, { ip: query.ip }, sources, settings));
    }
    return {
      location,
      winner: choice.winner,
      summary: choice.summary,
      basis: choice.basis,
      origin: choice.origin,
      candidates: choice.candidates,
      settings: {
        defaultPop: settings.defaultPop,
        loadPenaltyKm: settings.loadPenaltyKm,
        maxInFlight: settings.maxInFlight,
        geoSources: sources.map((s) => s.kind),
      },
    };
  });
};
