import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodePoller, type NodePoller } from "../src/node-view/poller.js";

/** A stand-in for the control plane's `GET /v1/nodes`: answers whatever the test sets. */
interface StandIn {
  server: Server;
  url: string;
  status: number;
  body: unknown;
  authorizations: Array<string | undefined>;
}

async function startStandIn(): Promise<StandIn> {
  const standIn = { status: 200, body: { nodes: [] }, authorizations: [] } as unknown as StandIn;
  standIn.server = createServer((req, res) => {
    standIn.authorizations.push(req.headers.authorization);
    const text = JSON.stringify(standIn.body);
    res.writeHead(req.url === "/v1/nodes" ? standIn.status : 404, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((resolve) => standIn.server.listen(0, "127.0.0.1", resolve));
  standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
  return standIn;
}

const viewNode = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
  id,
  pop: id.split("-")[0],
  lat: 1,
  lon: 2,
  httpAddress: "127.0.0.1:1",
  status,
  lastSeen: "2024-01-01T00:00:00.000Z",
  configVersion: 1,
  scripts: {},
  inFlight: 3,
  lastNack: null,
  ...extra,
});

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out: ${what}`);
}

describe("the node view poller", () => {
  let standIn: StandIn;
  let poller: NodePoller;

  beforeEach(async () => {
    standIn = await startStandIn();
    poller = createNodePoller({
      apiUrl: standIn.url,
      adminToken: "secret",
      intervalMs: 50,
      timeoutMs: 1000,
      logger: pino({ level: "silent" }),
    });
  });

  afterEach(async () => {
    await poller.stop();
    standIn.server.closeAllConnections();
    await new Promise<void>((resolve) => standIn.server.close(() => resolve()));
  });

  it("reads the control plane's node list with the bearer token, keeping the fields routing needs", async () => {
    standIn.body = { nodes: [viewNode("fra-1", "healthy"), viewNode("sin-1", "disconnected")] };
    expect(poller.current()).toEqual({ nodes: [], fetchedAt: null, lastError: null });
    expect(await poller.refresh()).toBe(true);
    expect(standIn.authorizations).toEqual(["Bearer secret"]);
    expect(poller.current().nodes).toEqual([
      { id: "fra-1", pop: "fra", lat: 1, lon: 2, httpAddress: "127.0.0.1:1", status: "healthy", inFlight: 3 },
      {
        id: "sin-1",
        pop: "sin",
        lat: 1,
        lon: 2,
        httpAddress: "127.0.0.1:1",
        status: "disconnected",
        inFlight: 3,
      },
    ]);
    expect(poller.current().fetchedAt).not.toBeNull();
  });

  it("treats a status it does not know as unhealthy", async () => {
    standIn.body = { nodes: [viewNode("fra-1", "draining", { inFlight: undefined })] };
    await poller.refresh();
    expect(poller.current().nodes[0]).toMatchObject({ status: "unhealthy", inFlight: 0 });
  });

  it("keeps the last good view while the control plane errors, answers garbage or is gone", async () => {
    standIn.body = { nodes: [viewNode("fra-1", "healthy")] };
    await poller.refresh();
    const good = poller.current().nodes;

    standIn.status = 500;
    expect(await poller.refresh()).toBe(false);
    expect(poller.current()).toMatchObject({ nodes: good, lastError: "GET /v1/nodes answered 500" });

    standIn.status = 200;
    standIn.body = { nodes: "many" };
    expect(await poller.refresh()).toBe(false);
    expect(poller.current().nodes).toBe(good);
    expect(poller.current().lastError).toContain("unexpected shape");

    standIn.server.closeAllConnections();
    await new Promise<void>((resolve) => standIn.server.close(() => resolve()));
    expect(await poller.refresh()).toBe(false);
    expect(poller.current().nodes).toBe(good);
    // Back on the same port: the view is replaced again.
    standIn.server.listen(Number(new URL(standIn.url).port), "127.0.0.1");
    standIn.body = { nodes: [] };
    await until(() => standIn.server.listening, "stand-in listening again");
    expect(await poller.refresh()).toBe(true);
    expect(poller.current()).toMatchObject({ nodes: [], lastError: null });
  });

  it("follows changes on its own once started", async () => {
    poller.start();
    standIn.body = { nodes: [viewNode("iad-1", "healthy")] };
    await until(() => poller.current().nodes.length === 1, "the new node to appear");
    standIn.body = { nodes: [viewNode("iad-1", "disconnected")] };
    await until(() => poller.current().nodes[0]?.status === "disconnected", "the node to go");
  });
});
