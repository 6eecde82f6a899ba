import { type Choice, chooseNode, type RoutingNode } from "./choose.js";
import { loadCidrTableFile } from "./cidr-table.js";
import type { GeoSource } from "./geo-source.js";
import { type ClientLocation, type LocateInput, locateClient } from "./locate.js";
import { openMmdbSource } from "./mmdb-source.js";
import type { RoutingSettings } from "./settings.js";

/** The geo sources in the order they are asked: MMDB file, then the CIDR table. */
export async function openGeoSources(
  settings: Pick<RoutingSettings, "geoMmdb" | "geoCidrFile">,
): Promise<GeoSource[]> {
  const sources: GeoSource[] = [];
  if (settings.geoMmdb !== null) sources.push(await openMmdbSource(settings.geoMmdb));
  if (settings.geoCidrFile !== null) sources.push(await loadCidrTableFile(settings.geoCidrFile));
  return sources;
}

export interface RouteExplanation {
  location: ClientLocation;
  choice: Choice;
}

/** Locate, then choose: the whole decision, as the router makes it and the control plane explains it. */
export function routeClient(
  nodes: readonly RoutingNode[],
  input: LocateInput,
  sources: readonly GeoSource[],
  settings: Pick<RoutingSettings, "defaultPop" | "loadPenaltyKm" | "maxInFlight">,
): RouteExplanation {
  const location = locateClient(input, sources);
  const choice = chooseNode(nodes, location.point, settings);
  return { location, choice };
}
