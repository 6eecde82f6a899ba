import {
  type GeoSource,
  type LocateInput,
  type RouteExplanation,
  type RoutingSettings,
  routeClient,
} from "@edge/routing";
import type { NodeViewSource } from "./node-view/types.js";

/** Locates a client and picks its node against the current view: one function for HTTP and DNS alike. */
export type Decide = (input: LocateInput) => RouteExplanation;

export function createDecider(
  view: NodeViewSource,
  sources: readonly GeoSource[],
  settings: RoutingSettings,
): Decide {
  return (input) => routeClient(view.current().nodes, input, sources, settings);
}
