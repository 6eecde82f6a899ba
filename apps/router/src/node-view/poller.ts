import type { RoutingNode } from "@edge/routing";
import type { Logger } from "pino";
import { z } from "zod";
import type { NodeSnapshot, NodeViewSource } from "./types.js";

/** The fields of `GET /v1/nodes` routing reads; anything else the control plane adds is ignored. */
const nodesResponse = z.object({
  nodes: z.array(
    z.object({
      id: z.string().min(1),
      pop: z.string().min(1),
      lat: z.number().min(-90).max(90),
      lon: z.number().min(-180).max(180),
      httpAddress: z.string(),
      // A status this router does not know is treated as not healthy rather than refused.
      status: z.string().transform((s) => (s === "healthy" || s === "disconnected" ? s : "unhealthy")),
      inFlight: z.number().nonnegative().catch(0).default(0),
    }),
  ),
  // A control plane that just started lists nodes as they reconnect (absent: an older one; settled).
  settled: z.boolean().default(true),
});

export interface NodePollerOptions {
  /** The control plane's API base URL, e.g. `http://127.0.0.1:8080`. */
  apiUrl: string;
  adminToken: string;
  intervalMs: number;
  /** How long one refresh may take before it counts as failed. */
  timeoutMs: number;
  logger: Logger;
}

export interface NodePoller extends NodeViewSource {
  /** Fetches once now; resolves `true` if the view was replaced. Never rejects. */
  refresh(): Promise<boolean>;
  /** Refreshes every `intervalMs` (each refresh starts after the previous one ended). */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Keeps the control plane's view of the nodes. A failed refresh keeps the
 * last good view: a control plane restart must not take routing down, and
 * nodes keep serving while it is away. Outages are logged once, at the start
 * and at the end.
 */
export function createNodePoller(options: NodePollerOptions): NodePoller {
  const log = options.logger.child({ component: "node-poller" });
  const url = `${options.apiUrl}/v1/nodes`;
  let snapshot: NodeSnapshot = { nodes: [], fetchedAt: null, lastError: null };
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<boolean> | null = null;
  let running = false;
  let unsettledLogged = false;

  async function fetchNodes(): Promise<{ nodes: RoutingNode[]; settled: boolean }> {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${options.adminToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!res.ok) throw new Error(`GET /v1/nodes answered ${res.status}`);
    const parsed = nodesResponse.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(`GET /v1/nodes answered an unexpected shape: ${parsed.error.issues[0]?.message}`);
    return { nodes: parsed.data.nodes as RoutingNode[], settled: parsed.data.settled };
  }

  async function refreshOnce(): Promise<boolean> {
    try {
      const fetched = await fetchNodes();
      const nodes = fetched.settled ? fetched.nodes : keepHealthy(snapshot.nodes, fetched.nodes);
      if (!fetched.settled && nodes.length > fetched.nodes.filter(isHealthy).length && !unsettledLogged) {
        unsettledLogged = true;
        log.info(
          { kept: nodes.length - fetched.nodes.length },
          "control plane view not settled yet: keeping the nodes last seen healthy",
        );
      }
      if (fetched.settled) unsettledLogged = false;
      if (snapshot.lastError !== null) log.info({ nodes: nodes.length }, "control plane reachable again");
      else if (snapshot.fetchedAt === null) log.info({ nodes: nodes.length }, "first node view received");
      snapshot = { nodes, fetchedAt: Date.now(), lastError: null };
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (snapshot.lastError === null) {
        log.warn(
          { err, url, keptNodes: snapshot.nodes.length },
          "cannot refresh the node view: keeping the last good one",
        );
      }
      snapshot = { ...snapshot, lastError: message };
      return false;
    }
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = null;
      void poller.refresh().then(schedule);
    }, options.intervalMs);
  }

  const poller: NodePoller = {
    current: () => snapshot,
    refresh() {
      // Concurrent callers share one request.
      inFlight ??= refreshOnce().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await inFlight;
    },
  };
  return poller;
}

const isHealthy = (node: RoutingNode): boolean => node.status === "healthy";

/**
 * While the control plane's view is not settled (it restarted; nodes are still
 * reconnecting), a node last seen healthy stays as it was unless the new view
 * says it is healthy too: routing never drops to "no healthy node" because the
 * control plane forgot, only because nodes went away.
 */
export function keepHealthy(previous: readonly RoutingNode[], next: readonly RoutingNode[]): RoutingNode[] {
  const byId = new Map(next.map((node) => [node.id, node] as const));
  for (const node of previous) {
    const now = byId.get(node.id);
    if (isHealthy(node) && (now === undefined || !isHealthy(now))) byId.set(node.id, node);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
