import { parseReleaseKey } from "@edge/protocol";
import type { NodeState } from "../store/types.js";
import type { NodeStatus, NodeView } from "./types.js";

/**
 * The status rule, the same for a node of this replica and one another
 * replica shared through the store:
 * - `disconnected`: no open stream, or nothing heard within `nodeTimeoutMs`
 *   (the node stays listed so operators see it went away);
 * - `unhealthy`: the stream is live but the node's last ACK rejected some
 *   script (see `lastNack`), or some of its own health checks fail;
 * - `healthy`: otherwise.
 */
export function nodeStatus(state: NodeState, now: number, nodeTimeoutMs: number): NodeStatus {
  if (!state.connected || now - state.lastSeenMs > nodeTimeoutMs) return "disconnected";
  return state.lastAckHadErrors || state.failingChecks.length > 0 ? "unhealthy" : "healthy";
}

/** Of two states of one node (two replicas' views), the one that heard from it last; a live stream wins a tie. */
export function fresher(a: NodeState, b: NodeState): NodeState {
  if (a.lastSeenMs !== b.lastSeenMs) return a.lastSeenMs > b.lastSeenMs ? a : b;
  return b.connected && !a.connected ? b : a;
}

export function toView(state: NodeState, status: NodeStatus): NodeView {
  const scripts: Record<string, number> = {};
  const canaries: NodeView["canaries"] = {};
  for (const [name, key] of Object.entries(state.releases).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const release = parseReleaseKey(key);
    if (release === null) continue;
    scripts[name] = release.version;
    if (release.canary !== null) canaries[name] = release.canary;
  }
  return {
    id: state.id,
    pop: state.pop,
    lat: state.lat,
    lon: state.lon,
    httpAddress: state.httpAddress,
    status,
    lastSeen: new Date(state.lastSeenMs).toISOString(),
    configVersion: state.configVersion,
    scripts,
    canaries,
    inFlight: state.inFlight,
    lastNack: state.lastNack === null ? null : { ...state.lastNack },
    nackCount: state.nackCount,
    parked: { ...state.parked },
    failingChecks: [...state.failingChecks],
    ...(state.retrying !== undefined && Object.keys(state.retrying).length > 0
      ? { retrying: { ...state.retrying } }
      : {}),
    controlPlaneId: state.controlPlaneId,
  };
}
