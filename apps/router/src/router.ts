import type { AddressInfo } from "node:net";
import { type GeoSource, openGeoSources } from "@edge/routing";
import type { Logger } from "pino";
import type { RouterConfig } from "./config.js";
import { answerDnsMessage } from "./dns/answer.js";
import { createNodeAddressBook } from "./dns/node-addresses.js";
import { type DnsServer, startDnsServer } from "./dns/server.js";
import { createHttpEntry, type HttpEntry } from "./http/entry.js";
import { createNodePoller } from "./node-view/poller.js";
import type { NodeViewSource } from "./node-view/types.js";
import { createDecider } from "./route-decider.js";

/** The SOA serial: the start time in seconds, so a restarted router (new config) is a newer zone. */
const SERIAL = Math.floor(Date.now() / 1000) % 2 ** 32;

export interface RouterDeps {
  logger: Logger;
  /** Where node health comes from; by default the control plane, polled. */
  view?: NodeViewSource;
  /** Geo sources; by default those `config.routing` names (MMDB, CIDR table). */
  geoSources?: GeoSource[];
}

export interface Router {
  /** Opens geo data, takes a first node view, binds HTTP and DNS. */
  start(): Promise<{ httpPort: number; dnsPort: number }>;
  stop(): Promise<void>;
}

/** Wires one router: node view → decider → HTTP entry and DNS server. */
export function createRouter(config: RouterConfig, deps: RouterDeps): Router {
  const logger = deps.logger;
  const poller =
    deps.view === undefined
      ? createNodePoller({
          apiUrl: config.apiUrl,
          adminToken: config.adminToken,
          intervalMs: config.pollIntervalMs,
          timeoutMs: config.pollTimeoutMs,
          logger,
        })
      : null;
  const view: NodeViewSource = deps.view ?? (poller as NodeViewSource);
  let http: HttpEntry | null = null;
  let dns: DnsServer | null = null;

  return {
    async start() {
      const sources = deps.geoSources ?? (await openGeoSources(config.routing));
      logger.info(
        { geoSources: sources.map((s) => s.kind), defaultPop: config.routing.defaultPop },
        "geo sources ready",
      );
      const decide = createDecider(view, sources, config.routing);
      if (poller !== null) {
        // Not waiting for success: with the control plane down the router starts and answers 503 until it is back.
        await poller.refresh();
        poller.start();
      }
      http = createHttpEntry({
        zone: config.zone,
        trustedProxies: config.trustedProxies,
        connectTimeoutMs: config.connectTimeoutMs,
        responseTimeoutMs: config.responseTimeoutMs,
        holdDownMs: config.holdDownMs,
        redirectUrl: config.redirectUrl,
        decide,
        view,
        logger,
      });
      const server = http.server;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.httpPort, config.httpHost, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const addresses = createNodeAddressBook(config.dnsTtl * 1000);
      dns = await startDnsServer({
        host: config.dnsHost,
        port: config.dnsPort,
        logger,
        answer: (raw, remote, transport) =>
          answerDnsMessage(raw, remote, transport, {
            zone: config.zone,
            ttl: config.dnsTtl,
            nsName: config.dnsNsName,
            serial: SERIAL,
            decide,
            addresses,
            logger,
          }),
      });
      return { httpPort: (server.address() as AddressInfo).port, dnsPort: dns.port };
    },
    async stop() {
      await poller?.stop();
      await Promise.all([http?.close(), dns?.close()]);
      http = null;
      dns = null;
    },
  };
}
