import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fastify from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import type { NodeView } from "../push/types.js";
import { type Harness, recordingHub, startHarness } from "../test-harness.js";
import { type RouteExplainOptions, routeRoutes } from "./route.js";

const view = (id: string, pop: string, lat: number, lon: number, extra: Partial<NodeView> = {}): NodeView =>
  // Only the fields routing reads matter here; the rest of the node view is other routes' business.
  ({
    id,
    pop,
    lat,
    lon,
    httpAddress: `127.0.0.1:${8100 + id.length}`,
    status: "healthy",
    lastSeen: "2024-01-01T00:00:00.000Z",
    configVersion: 1,
    scripts: {},
    inFlight: 0,
    lastNack: null,
    ...extra,
  }) as NodeView;

const cluster = () => [
  view("fra-1", "fra", 50.1109, 8.6821),
  view("iad-1", "iad", 38.9445, -77.4558),
  view("sin-1", "sin", 1.3521, 103.8198),
];

// The routing variables are read once, when the app registers the route: set them around the harness.
const ROUTING_VARS = ["EDGE_GEO_CIDR_FILE", "EDGE_DEFAULT_POP", "EDGE_GEO_MMDB"] as const;
let dir: string;
let current: Harness | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edge-cp-route-"));
  writeFileSync(
    join(dir, "cidr.json"),
    JSON.stringify([{ cidr: "203.0.113.0/24", lat: 1.29, lon: 103.85, label: "SG office" }]),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function harness(env: Partial<Record<(typeof ROUTING_VARS)[number], string>> = {}): Promise<Harness> {
  current = await startHarness({ env: env as Record<string, string> });
  current.hub.nodeList = cluster();
  return current;
}

const explain = async (url: string) => (current ?? (await harness())).request({ method: "GET", url });

describe("GET /v1/route", () => {
  it("explains the choice for a point: every candidate with distance, health, load and rank", async () => {
    await harness();
    const res = await explain("/v1/route?lat=1.35&lon=103.8");
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.location).toMatchObject({ point: { lat: 1.35, lon: 103.8 }, source: "query" });
    expect(body.winner).toMatchObject({ id: "sin-1", pop: "sin", rank: 1, status: "healthy", skipped: null });
    expect(body.summary).toMatch(/^sin-1 \(sin\) is the nearest healthy node, [\d.]+ km away$/);
    expect(body.basis).toBe("client-location");
    expect(body.candidates.map((c: { id: string; rank: number }) => [c.id, c.rank])).toEqual([
      ["sin-1", 1],
      ["fra-1", 2],
      ["iad-1", 3],
    ]);
    expect(body.candidates[1].distanceKm).toBeGreaterThan(10_000);
    expect(body.settings).toEqual({ defaultPop: null, loadPenaltyKm: 0, maxInFlight: 0, geoSources: [] });
  });

  it("shows skipped nodes with the reason, using the hub's live view", async () => {
    const h = await harness();
    h.hub.nodeList = cluster().map((n) => (n.pop === "sin" ? { ...n, status: "disconnected" as const } : n));
    const body = (await explain("/v1/route?lat=1.35&lon=103.8")).json();
    expect(body.winner.id).toBe("fra-1");
    expect(body.candidates.at(-1)).toMatchObject({
      id: "sin-1",
      skipped: "disconnected",
      rank: null,
      score: null,
    });
  });

  it("locates an IP with the operator's CIDR table, as the router does", async () => {
    await harness({ EDGE_GEO_CIDR_FILE: join(dir, "cidr.json"), EDGE_DEFAULT_POP: "iad" });
    const body = (await explain("/v1/route?ip=203.0.113.9")).json();
    expect(body.location).toMatchObject({
      source: "cidr",
      ip: "203.0.113.9",
      network: "203.0.113.0/24",
      label: "SG office",
    });
    expect(body.winner.pop).toBe("sin");
    expect(body.settings).toMatchObject({ defaultPop: "iad", geoSources: ["cidr"] });
  });

  it("sends an IP nobody knows to the documented default PoP, and says why", async () => {
    await harness({ EDGE_GEO_CIDR_FILE: join(dir, "cidr.json"), EDGE_DEFAULT_POP: "iad" });
    const body = (await explain("/v1/route?ip=2001:db8::1")).json();
    expect(body.location).toMatchObject({
      point: null,
      source: null,
      notes: ["no geo data for 2001:db8::1"],
    });
    expect(body.basis).toBe("default-pop");
    expect(body.winner.pop).toBe("iad");
    expect(body.summary).toContain("default PoP iad serves it");
  });

  it("answers winner null with the reason when no node is healthy", async () => {
    const h = await harness();
    h.hub.nodeList = [];
    const res = await explain("/v1/route?lat=0&lon=0");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      winner: null,
      candidates: [],
      summary: "no healthy node: no node is known",
    });
  });

  it.each([
    ["/v1/route", "give either ip, or lat and lon"],
    ["/v1/route?ip=1.2.3.4&lat=1&lon=2", "give either ip, or lat and lon"],
    ["/v1/route?lat=1", "lat and lon go together"],
    ["/v1/route?lat=91&lon=0", "lat"],
    ["/v1/route?lat=north&lon=0", "expected decimal degrees"],
    ["/v1/route?ip=300.1.1.1", "not an IPv4 or IPv6 address"],
  ])("refuses %s with 400 EDGE_INVALID_QUERY", async (url, message) => {
    await harness();
    const res = await explain(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: "EDGE_INVALID_QUERY",
      message: expect.stringContaining(message),
    });
  });

  it("needs the admin token", async () => {
    const h = await harness();
    const res = await h.request({
      method: "GET",
      url: "/v1/route?lat=0&lon=0",
      headers: { authorization: "Bearer nope" },
    });
    expect(res.statusCode).toBe(401);
  });

  it("refuses a configuration whose routing data cannot be read, naming the file", async () => {
    const app = fastify();
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "test-admin-token",
      EDGE_GEO_CIDR_FILE: join(dir, "missing.json"),
    });
    app.register(routeRoutes, { hub: recordingHub(), config } as unknown as RouteExplainOptions);
    try {
      await expect(app.ready()).rejects.toMatchObject({
        code: "EDGE_INVALID_CONFIG",
        message: expect.stringContaining("cannot read the CIDR table"),
      });
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});
