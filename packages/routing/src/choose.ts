import { type GeoPoint, haversineKm } from "./geo-point.js";

export type NodeStatus = "healthy" | "unhealthy" | "disconnected";

/** What routing needs of a node: the fields of the control plane's `GET /v1/nodes` it reads. */
export interface RoutingNode {
  id: string;
  pop: string;
  lat: number;
  lon: number;
  httpAddress: string;
  status: NodeStatus;
  /** Requests the node is serving right now (from its heartbeats). */
  inFlight: number;
}

export type SkipReason = "unhealthy" | "disconnected" | "overloaded";

export interface Candidate {
  id: string;
  pop: string;
  httpAddress: string;
  status: NodeStatus;
  inFlight: number;
  /** Great-circle km from the origin, to 0.1 km; `null` without an origin. */
  distanceKm: number | null;
  /** What the ranking compares: distance plus the load penalty; `null` for skipped nodes. */
  score: number | null;
  /** 1 for the winner, 2 for the node a failed request is retried on...; `null` for skipped nodes. */
  rank: number | null;
  skipped: SkipReason | null;
}

/**
 * How the origin was found: the client's own location, the default PoP's
 * (the client could not be located), or none at all (no location and no
 * known default PoP: nodes are ranked by load, then id).
 */
export type ChoiceBasis = "client-location" | "default-pop" | "none";

export interface Choice {
  winner: Candidate | null;
  /** Ranked nodes first (best first), then skipped ones by id. */
  candidates: Candidate[];
  origin: GeoPoint | null;
  basis: ChoiceBasis;
  /** One sentence for logs and the explain endpoint. */
  summary: string;
}

export interface ChooseOptions {
  /** The PoP to serve clients that cannot be located (`EDGE_DEFAULT_POP`). */
  defaultPop?: string | null;
  /** Extra km added per in-flight request: 0 ranks on distance alone. */
  loadPenaltyKm?: number;
  /** A node serving this many requests or more is skipped as overloaded: 0 means no cap. */
  maxInFlight?: number;
}

const round1 = (km: number) => Math.round(km * 10) / 10;

function skipReason(node: RoutingNode, maxInFlight: number): SkipReason | null {
  if (node.status !== "healthy") return node.status === "disconnected" ? "disconnected" : "unhealthy";
  if (maxInFlight > 0 && node.inFlight >= maxInFlight) return "overloaded";
  return null;
}

/** Plain code-unit order, the same on every machine (unlike localeCompare). */
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function originOf(location: GeoPoint | null, nodes: readonly RoutingNode[], defaultPop: string | null) {
  if (location !== null) return { origin: location, basis: "client-location" as const };
  if (defaultPop !== null) {
    // Any node of the default PoP gives its coordinates, even an unhealthy one: then its nearest
    // neighbour takes over, which is what an operator would pick by hand.
    const home = [...nodes].sort(byId).find((node) => node.pop === defaultPop);
    if (home !== undefined)
      return { origin: { lat: home.lat, lon: home.lon }, basis: "default-pop" as const };
  }
  return { origin: null, basis: "none" as const };
}

function summarize(
  winner: Candidate | null,
  basis: ChoiceBasis,
  nodes: number,
  defaultPop: string | null,
): string {
  if (winner === null) {
    return nodes === 0 ? "no healthy node: no node is known" : `no healthy node among ${nodes} known`;
  }
  const who = `${winner.id} (${winner.pop})`;
  if (basis === "client-location") return `${who} is the nearest healthy node, ${winner.distanceKm} km away`;
  if (basis === "default-pop") {
    return winner.pop === defaultPop
      ? `${who}: the client could not be located, so the default PoP ${defaultPop} serves it`
      : `${who}: the client could not be located and the default PoP ${defaultPop} is not available; this is the nearest healthy node to it`;
  }
  return `${who}: the client could not be located and no default PoP is known; the least loaded node, then the lowest id, wins`;
}

/**
 * Picks the node for a client at `location` (`null`: unknown). Skips nodes
 * that are not healthy or are at `maxInFlight`; ranks the rest by distance
 * plus `loadPenaltyKm` per in-flight request, then distance, then id, so
 * equal inputs always give the same winner.
 */
export function chooseNode(
  nodes: readonly RoutingNode[],
  location: GeoPoint | null,
  options: ChooseOptions = {},
): Choice {
  const defaultPop = options.defaultPop ?? null;
  const loadPenaltyKm = options.loadPenaltyKm ?? 0;
  const maxInFlight = options.maxInFlight ?? 0;
  const { origin, basis } = originOf(location, nodes, defaultPop);

  const measured = nodes.map((node) => {
    const distance = origin === null ? null : haversineKm(origin, node);
    const score = (distance ?? 0) + loadPenaltyKm * Math.max(0, node.inFlight);
    return { node, distance, score, skipped: skipReason(node, maxInFlight) };
  });
  const eligible = measured
    .filter((m) => m.skipped === null)
    .sort((a, b) => a.score - b.score || (a.distance ?? 0) - (b.distance ?? 0) || byId(a.node, b.node));
  const skipped = measured.filter((m) => m.skipped !== null).sort((a, b) => byId(a.node, b.node));

  const candidates: Candidate[] = [...eligible, ...skipped].map((m) => ({
    id: m.node.id,
    pop: m.node.pop,
    httpAddress: m.node.httpAddress,
    status: m.node.status,
    inFlight: m.node.inFlight,
    distanceKm: m.distance === null ? null : round1(m.distance),
    score: m.skipped === null ? round1(m.score) : null,
    rank: m.skipped === null ? eligible.indexOf(m) + 1 : null,
    skipped: m.skipped,
  }));
  const winner = candidates[0]?.rank === 1 ? candidates[0] : null;
  return { winner, candidates, origin, basis, summary: summarize(winner, basis, nodes.length, defaultPop) };
}
