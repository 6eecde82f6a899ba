import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodePoller, type NodePoller } from "../src/node-view/poller.js";

const node = (id: string, status: string) => ({
  id,
  pop: id.split("-")[0],
  lat: 1,
  lon: 2,
  httpAddress: `127.0.0.1:${id.length}`,
  status,
  inFlight: 0,
});

/** The control plane's `GET /v1/nodes` as a freshly restarted replica answers it, over a real socket. */
describe("the node view while the control plane's view is not settled", () => {
  let server: Server;
  let body: unknown;
  let poller: NodePoller;

  beforeEach(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    poller = createNodePoller({
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      adminToken: "secret-admin-token",
      intervalMs: 1_000,
      timeoutMs: 1_000,
      logger: pino({ level: "silent" }),
    });
  });
  afterEach(async () => {
    await poller.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const statuses = () => poller.current().nodes.map((n) => `${n.id}:${n.status}`);

  it("keeps the nodes last seen healthy while an unsettled view lists them as disconnected or not at all", async () => {
    body = {
      nodes: [node("fra-1", "healthy"), node("sin-1", "healthy"), node("iad-1", "unhealthy")],
      settled: true,
    };
    await poller.refresh();
    body = { nodes: [node("fra-1", "disconnected")], settled: false };
    await poller.refresh();
    expect(statuses()).toEqual(["fra-1:healthy", "sin-1:healthy"]);

    // Nodes coming back are taken as the control plane sees them.
    body = { nodes: [node("fra-1", "healthy"), node("ams-1", "healthy")], settled: false };
    await poller.refresh();
    expect(statuses()).toEqual(["ams-1:healthy", "fra-1:healthy", "sin-1:healthy"]);
  });

  it("takes a settled view as it is, even one where every node is gone", async () => {
    body = { nodes: [node("fra-1", "healthy")], settled: true };
    await poller.refresh();
    body = { nodes: [node("fra-1", "disconnected")], settled: true };
    await poller.refresh();
    expect(statuses()).toEqual(["fra-1:disconnected"]);
  });

  it("treats a control plane that does not say (an older one) as settled", async () => {
    body = { nodes: [node("fra-1", "healthy")] };
    await poller.refresh();
    body = { nodes: [] };
    await poller.refresh();
    expect(statuses()).toEqual([]);
  });
});
