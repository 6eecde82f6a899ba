import type { RoutingNode } from "@edge/routing";

/** The router's picture of the cluster: the last good answer of the control plane's `GET /v1/nodes`. */
export interface NodeSnapshot {
  nodes: readonly RoutingNode[];
  /** Epoch ms of the last successful refresh; `null` before the first. */
  fetchedAt: number | null;
  /** Why the last refresh failed, `null` if it succeeded. */
  lastError: string | null;
}

/** The seam between routing and where node health comes from (the poller; a fixed list in tests). */
export interface NodeViewSource {
  current(): NodeSnapshot;
}

/** A fixed node list: for tests and for routing without a control plane. */
export function staticNodeView(nodes: readonly RoutingNode[]): NodeViewSource & { nodes: RoutingNode[] } {
  const view = {
    nodes: [...nodes],
    current: (): NodeSnapshot => ({ nodes: view.nodes, fetchedAt: Date.now(), lastError: null }),
  };
  return view;
}
