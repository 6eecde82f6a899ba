export {
  type Candidate,
  type Choice,
  type ChoiceBasis,
  type ChooseOptions,
  chooseNode,
  type NodeStatus,
  type RoutingNode,
  type SkipReason,
} from "./choose.js";
export {
  CidrTable,
  type CidrTableEntry,
  cidrTableFromJson,
  cidrTableSchema,
  loadCidrTableFile,
} from "./cidr-table.js";
export { CLIENT_GEO_HEADER, type GeoHeaderResult, parseClientGeoHeader } from "./client-geo-header.js";
export { type ClientIp, clientIpOf, TrustedProxies } from "./client-ip.js";
export {
  isRoutingError,
  NO_HEALTHY_NODE,
  ROUTING_ERROR_CODES,
  RoutingError,
  type RoutingErrorCode,
} from "./errors.js";
export { EARTH_RADIUS_KM, type GeoPoint, haversineKm, isGeoPoint } from "./geo-point.js";
export type { GeoMatch, GeoSource } from "./geo-source.js";
export {
  type CidrResult,
  type IpAddress,
  type IpNetwork,
  networkContains,
  networkOf,
  parseCidr,
  parseIp,
} from "./ip.js";
export { type ClientLocation, type LocateInput, type LocationSource, locateClient } from "./locate.js";
export { openMmdbSource } from "./mmdb-source.js";
export { openGeoSources, type RouteExplanation, routeClient } from "./route-client.js";
export { loadRoutingSettings, ROUTING_ENV_VARS, type RoutingSettings } from "./settings.js";
