import type { ApiClient } from "../api-client.js";
import type { Io } from "../io.js";

interface NodeView {
  id: string;
  pop: string;
  status: string;
  lastNack: { script: string; version: number; error: string; at: number } | null;
}

interface RolloutEntry {
  nodeId: string;
  pop: string;
  version: number;
}

export interface RolloutState {
  version: number;
  /** Connected PoPs (a PoP with at least one node that is not disconnected). */
  pops: string[];
  /** PoPs whose every connected node runs `version`. */
  popsOnVersion: string[];
  /** Nodes that rejected this version. */
  rejected: Array<{ nodeId: string; pop: string; error: string }>;
  complete: boolean;
}

/** "3/3 PoPs on v4". */
export function progressLine(state: RolloutState): string {
  return `${state.popsOnVersion.length}/${state.pops.length} PoPs on v${state.version}`;
}

/** Where a version stands, from `GET /v1/nodes` and `GET /v1/scripts/:name`'s `rollout`. */
export async function rolloutState(
  api: ApiClient,
  name: string,
  version: number,
  since: number,
): Promise<RolloutState> {
  const [{ nodes }, script] = await Promise.all([
    api.json<{ nodes: NodeView[] }>("GET", "/v1/nodes"),
    api.json<{ rollout: RolloutEntry[] }>("GET", `/v1/scripts/${name}`),
  ]);
  const running = new Map(script.rollout.map((r) => [r.nodeId, r.version]));
  const connected = nodes.filter((n) => n.status !== "disconnected");
  const pops = [...new Set(connected.map((n) => n.pop))].sort();
  const popsOnVersion = pops.filter((pop) =>
    connected.filter((n) => n.pop === pop).every((n) => running.get(n.id) === version),
  );
  const rejected = connected
    .filter(
      (n) =>
        n.lastNack !== null &&
        n.lastNack.script === name &&
        n.lastNack.version === version &&
        n.lastNack.at >= since - 1_000 &&
        running.get(n.id) !== version,
    )
    .map((n) => ({ nodeId: n.id, pop: n.pop, error: n.lastNack?.error ?? "" }));
  return { version, pops, popsOnVersion, rejected, complete: popsOnVersion.length === pops.length };
}

/**
 * Polls until every connected PoP runs `version`, a node rejects it, or
 * `timeoutMs` passes, printing the progress line as it changes (rewritten in
 * place on a terminal; to stderr when stdout carries JSON).
 */
export async function followRollout(
  api: ApiClient,
  io: Io,
  options: { name: string; version: number; timeoutMs: number; json: boolean; since: number },
): Promise<RolloutState> {
  const print = options.json ? io.err.bind(io) : io.out.bind(io);
  const inPlace = io.isTTY && !options.json;
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    const state = await rolloutState(api, options.name, options.version, options.since);
    const line = progressLine(state);
    const done = state.complete || state.rejected.length > 0 || Date.now() >= deadline;
    if (line !== last || done) {
      if (inPlace) print(`\r${line}${done ? "\n" : ""}`);
      else if (line !== last) print(`${line}\n`);
      last = line;
    }
    if (done) return state;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
