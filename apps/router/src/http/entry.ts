import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { CLIENT_GEO_HEADER, clientIpOf, type TrustedProxies } from "@edge/routing";
import type { Logger } from "pino";
import type { NodeViewSource } from "../node-view/types.js";
import type { Decide } from "../route-decider.js";
import { forwardWithRetry } from "./forward.js";
import { endToEndHeaders, headerText } from "./headers.js";
import { createHoldDown } from "./hold-down.js";
import { createLivenessProbe } from "./liveness-probe.js";
import { pathWithoutRedirect, redirectLocation } from "./redirect.js";
import { sendError, sendJson } from "./reply.js";
import { orderTargets } from "./targets.js";
import type { Attempt } from "./upstream.js";
import { hostnameOf, scriptLabelOf } from "./zone-host.js";

export interface HttpEntryOptions {
  zone: string;
  trustedProxies: TrustedProxies;
  connectTimeoutMs: number;
  /** `EDGE_ROUTER_RESPONSE_TIMEOUT_MS`: how long a PoP may keep the router waiting for its response head. */
  responseTimeoutMs: number;
  /** `EDGE_ROUTER_HOLD_DOWN_MS`: how long a PoP that was unreachable or timed out is passed over. */
  holdDownMs: number;
  /** `EDGE_ROUTER_REDIRECT_URL`. */
  redirectUrl: string;
  decide: Decide;
  /** For `GET /healthz`. */
  view: NodeViewSource;
  logger: Logger;
}

export interface HttpEntry {
  server: Server;
  close(): Promise<void>;
}

/** Headers the router sets on what it returns. */
export const ROUTED_TO_HEADER = "x-edge-routed-to";
export const RETRIED_FROM_HEADER = "x-edge-retried-from";
export const CLIENT_LOCATION_HEADER = "x-edge-client-location";
export const ROUTE_NOTE_HEADER = "x-edge-route-note";

function hostFieldCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === "host") count += 1;
  return count;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * The HTTP entry point: `Host: <script>.<zone>` is proxied to the nearest
 * healthy PoP (method, headers and body streamed both ways), or redirected
 * there with `?redirect`. If the PoP fails before its response starts
 * (unreachable, or no response head within `responseTimeoutMs`), the request
 * is tried once more on the next nearest when that is safe, and the PoP is
 * held down for `holdDownMs` (unless a timed-out PoP still answers its health
 * check). `GET /healthz` on any other host answers for the router.
 */
export function createHttpEntry(options: HttpEntryOptions): HttpEntry {
  const log = options.logger.child({ component: "http-entry" });
  const agent = new Agent({ keepAlive: true });
  // Requests with a body never ride a kept-alive socket: if the PoP closed it meanwhile (after
  // refusing someone's upload, say), the body would be half-sent and could not be replayed.
  const freshAgent = new Agent({ keepAlive: false });
  const holdDown = createHoldDown(options.holdDownMs);
  // A live node answers its health check as fast as it accepts a connection.
  const probe = createLivenessProbe(options.connectTimeoutMs);

  function health(res: ServerResponse): void {
    const snapshot = options.view.current();
    sendJson(res, 200, {
      status: "ok",
      nodes: snapshot.nodes.length,
      healthy: snapshot.nodes.filter((n) => n.status === "healthy").length,
      viewAgeMs: snapshot.fetchedAt === null ? null : Date.now() - snapshot.fetchedAt,
      lastError: snapshot.lastError,
      heldDown: holdDown.list(),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Node keeps the first of several Host fields; a PoP or a cache behind another proxy may keep
    // the last: which script a request is for must not be ambiguous (RFC 9112 §3.2).
    if (hostFieldCount(req.rawHeaders) > 1) {
      return sendError(res, "EDGE_BAD_REQUEST", "The request has more than one Host header");
    }
    const hostname = hostnameOf(req.headers.host);
    const script = scriptLabelOf(hostname, options.zone);
    if (script === null) {
      if (req.url === "/healthz" && (req.method === "GET" || req.method === "HEAD")) return health(res);
      return sendError(
        res,
        "EDGE_UNKNOWN_HOST",
        `host ${JSON.stringify(hostname)} is not <script>.${options.zone}`,
      );
    }

    const client = clientIpOf(
      req.socket.remoteAddress,
      req.headers["x-forwarded-for"],
      options.trustedProxies,
    );
    const geo = req.headers[CLIENT_GEO_HEADER];
    const { location, choice } = options.decide({
      geoHeader: Array.isArray(geo) ? geo.join(",") : geo,
      ip: client.ip,
    });
    const { targets, passedOver } = orderTargets(choice.candidates, holdDown);
    const notes = [
      ...(client.note === null ? [] : [client.note]),
      ...location.notes,
      ...passedOver.map(({ candidate, reason }) => `${candidate.id} (${candidate.pop}) held down: ${reason}`),
    ];
    const routeHeaders: Record<string, string> = { [CLIENT_LOCATION_HEADER]: location.source ?? "unknown" };
    if (notes.length > 0) routeHeaders[ROUTE_NOTE_HEADER] = headerText(notes.join("; "));
    const reqLog = log.child({ script, client: client.ip?.text ?? null, located: location.source });

    const first = targets[0];
    if (first === undefined) {
      reqLog.warn({ summary: choice.summary }, "no healthy node");
      return sendError(
        res,
        "EDGE_NO_HEALTHY_NODE",
        `No healthy edge node can serve this request (${choice.summary})`,
        routeHeaders,
      );
    }

    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://router.invalid");
    } catch {
      return sendError(res, "EDGE_BAD_REQUEST");
    }
    if (url.searchParams.has("redirect")) {
      const location = redirectLocation(options.redirectUrl, {
        hostname,
        script,
        pop: first.candidate.pop,
        node: first.target,
        address: first.candidate.httpAddress,
        path: pathWithoutRedirect(url),
      });
      res.writeHead(307, {
        ...routeHeaders,
        location,
        [ROUTED_TO_HEADER]: first.candidate.pop,
        "cache-control": "no-store",
        "content-length": 0,
      });
      res.end();
      return;
    }

    const path = req.url?.startsWith("/") ? req.url : `${url.pathname}${url.search}`;
    // One entry, the client as located above: a client-supplied X-Forwarded-For is believed only
    // from a trusted proxy (EDGE_ROUTER_TRUSTED_PROXIES), so no one picks their side of a rollout
    // (PoPs hash the first entry) or their location by sending the header.
    const forwardedFor = client.ip?.text ?? req.socket.remoteAddress ?? "";
    const headers = [
      ...endToEndHeaders(req.rawHeaders, req.headers, ["x-forwarded-for", "x-forwarded-proto"]),
      "x-forwarded-for",
      forwardedFor,
      "x-forwarded-proto",
      "http",
    ];
    const body = hasBody(req) ? req : null;

    let inFlight: Attempt["upstream"] | null = null;
    res.once("close", () => {
      // The client went away first: stop the PoP's work too.
      if (!res.writableFinished) inFlight?.destroy();
    });

    const forwarded = await forwardWithRetry({
      targets,
      method: req.method ?? "GET",
      path,
      headers,
      body,
      connectTimeoutMs: options.connectTimeoutMs,
      responseTimeoutMs: options.responseTimeoutMs,
      agent: body === null ? agent : freshAgent,
      freshAgent,
      holdDown,
      probe,
      log: reqLog,
      clientGone: () => res.destroyed,
      onAttempt: (upstream) => {
        inFlight = upstream;
      },
    });
    if (!forwarded.ok) return sendError(res, forwarded.code, forwarded.message, routeHeaders);

    const { response, servedBy, retriedFrom } = forwarded;
    const out = endToEndHeaders(response.rawHeaders, response.headers);
    out.push(ROUTED_TO_HEADER, servedBy.candidate.pop);
    if (retriedFrom !== null) out.push(RETRIED_FROM_HEADER, retriedFrom);
    for (const [name, value] of Object.entries(routeHeaders)) out.push(name, value);
    if (res.destroyed) {
      response.destroy();
      return;
    }
    res.writeHead(response.statusCode ?? 502, response.statusMessage, out);
    pipeline(response, res, (err) => {
      if (err && !res.destroyed) res.destroy(err);
    });
    reqLog.debug(
      { node: servedBy.candidate.id, pop: servedBy.candidate.pop, status: response.statusCode },
      "routed",
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request failed");
      if (!res.headersSent) sendError(res, "EDGE_INTERNAL");
      else res.destroy();
    });
  });

  return {
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      probe.close();
      agent.destroy();
      freshAgent.destroy();
    },
  };
}
