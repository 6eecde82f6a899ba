import { status } from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";
import { loadConfig } from "../config.js";
import { TEST_TOKEN, telemetryDeps } from "../test-harness.js";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

/**
 * Per-node enrolment on a real gRPC socket, with tokens issued and revoked
 * through the real HTTP API on the same store and hub.
 */
describe("per-node enrolment (EDGE_NODE_ENROLMENT=1)", () => {
  let cp: TestControlPlane;
  let api: FastifyInstance;
  let closeTelemetry: () => Promise<void>;

  beforeEach(async () => {
    cp = await startTestControlPlane({ nodeEnrolment: true });
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: TEST_TOKEN,
      EDGE_NODE_ENROLMENT: "1",
      EDGE_LOG_LEVEL: "silent",
    });
    const telemetry = telemetryDeps(cp.server.hub, undefined, config);
    closeTelemetry = () => telemetry.aggregator.close();
    api = await buildApp(config, {
      store: cp.store,
      hub: cp.server.hub,
      metrics: telemetry.metrics,
      tail: telemetry.tail,
      prometheus: telemetry.prometheus,
      logger: pino({ level: "silent" }),
    });
  });
  afterEach(async () => {
    await api.close();
    await closeTelemetry();
    await cp.close();
  });

  const call = (method: "POST" | "DELETE" | "GET", url: string, payload?: unknown) =>
    api.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  async function enrol(nodeId: string, pop: string): Promise<string> {
    const res = await call("POST", "/v1/nodes/enrolments", { nodeId, pop });
    expect(res.statusCode).toBe(201);
    return (res.json() as { token: string }).token;
  }

  it("serves a node presenting the token issued for its id and PoP", async () => {
    const token = await enrol("fra-1", "fra");
    const node = cp.node({ token });
    node.hello("fra-1", { pop: "fra" });
    await node.push(1);
    expect(cp.server.hub.nodes().map((n) => [n.id, n.status])).toEqual([["fra-1", "healthy"]]);
  });

  it("refuses a token used for another node id or PoP, or none, and never records the node", async () => {
    const token = await enrol("fra-1", "fra");
    const attempts = [
      { token, nodeId: "fra-2", pop: "fra" },
      { token, nodeId: "fra-1", pop: "sin" },
      { token: `${token}x`, nodeId: "fra-1", pop: "fra" },
      { token: undefined, nodeId: "fra-1", pop: "fra" },
    ];
    for (const attempt of attempts) {
      const node = cp.node(attempt.token === undefined ? {} : { token: attempt.token });
      node.hello(attempt.nodeId, { pop: attempt.pop });
      const ended = await node.ended;
      expect(ended.code).toBe(status.UNAUTHENTICATED);
      expect(ended.details).toMatch(/^EDGE_NODE_UNAUTHENTICATED: /);
      expect(node.pushes).toEqual([]);
    }
    expect(cp.server.hub.nodes()).toEqual([]);
  });

  it("does not let another node's token replace a live session (the token is bound to its node id)", async () => {
    const fra = await enrol("fra-1", "fra");
    const iad = await enrol("iad-1", "iad");
    const real = cp.node({ token: fra });
    real.hello("fra-1", { pop: "fra", httpAddress: "10.0.0.1:8101" });
    await real.push(1);
    for (let i = 0; i < 5; i++) {
      const rogue = cp.node({ token: iad });
      rogue.hello("fra-1", { pop: "fra", httpAddress: "203.0.113.9:80" });
      expect((await rogue.ended).code).toBe(status.UNAUTHENTICATED);
    }
    expect(real.isEnded).toBe(false);
    expect(cp.server.hub.nodes()).toMatchObject([
      { id: "fra-1", httpAddress: "10.0.0.1:8101", status: "healthy" },
    ]);
  });

  it("ends a revoked node's live stream with UNAUTHENTICATED and refuses its token afterwards", async () => {
    const token = await enrol("fra-1", "fra");
    const node = cp.node({ token });
    node.hello("fra-1", { pop: "fra" });
    await node.push(1);

    expect((await call("DELETE", "/v1/nodes/enrolments/fra-1")).statusCode).toBe(204);
    const ended = await node.ended;
    expect(ended.code).toBe(status.UNAUTHENTICATED);
    expect(ended.details).toMatch(/^EDGE_NODE_REVOKED: /);

    const again = cp.node({ token });
    again.hello("fra-1", { pop: "fra" });
    expect((await again.ended).code).toBe(status.UNAUTHENTICATED);
  });

  it("ends a stream whose enrolment another replica revoked (through the shared store)", async () => {
    const token = await enrol("sin-1", "sin");
    const node = cp.node({ token });
    node.hello("sin-1", { pop: "sin" });
    await node.push(1);
    // Another replica's DELETE: only the store changes here.
    expect(await cp.store.deleteEnrolment("sin-1")).toBe(true);
    const ended = await node.ended;
    expect(ended.details).toMatch(/^EDGE_NODE_REVOKED: /);
    await eventually(() => cp.server.hub.nodes()[0]?.status === "disconnected", "sin-1 disconnected");
  });
});

describe("hello validation", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  it.each([
    ["a NaN latitude", "node-1", { lat: Number.NaN }],
    ["an infinite longitude", "node-1", { lon: Number.POSITIVE_INFINITY }],
    ["a latitude beyond 90", "node-1", { lat: 90.5 }],
    ["a longitude beyond -180", "node-1", { lon: -181 }],
    ["a NUL byte in the node id", "fra\u00001", {}],
    ["an upper-case node id", "FRA-1", {}],
    ["a node id of 64 characters", "a".repeat(64), {}],
    ["a PoP with a space", "node-1", { pop: "fr a" }],
    ["an empty http address", "node-1", { httpAddress: "" }],
    ["an http address without a port", "node-1", { httpAddress: "example.com" }],
    ["an http address with port 99999", "node-1", { httpAddress: "127.0.0.1:99999" }],
    ["an http address with credentials", "node-1", { httpAddress: "http://u:p@example.com/" }],
    ["an http address of another scheme", "node-1", { httpAddress: "ftp://example.com:21" }],
    ["a NUL byte in the agent version", "node-1", { agentVersion: "1\u0000" }],
    ["an invalid held release", "node-1", { heldReleases: { hello: "x" } }],
    ["an invalid held script name", "node-1", { heldReleases: { "../etc": "1" } }],
  ])(
    "refuses a hello with %s with INVALID_ARGUMENT, naming the field, and stores nothing",
    async (_what, nodeId, fields) => {
      const node = cp.node();
      node.hello(nodeId, fields);
      const ended = await node.ended;
      expect(ended.code).toBe(status.INVALID_ARGUMENT);
      expect(ended.details).toMatch(/^EDGE_INVALID_HELLO: hello\.\w+/);
      expect(node.messages).toEqual([]);
      expect(cp.server.hub.nodes()).toEqual([]);
      expect(await cp.store.listNodeStates()).toEqual([]);
    },
  );

  it.each(["fra-1.example.net:8101", "[::1]:8101", "https://pop.example.net", "http://10.0.0.2:8080"])(
    "accepts the http address %s",
    async (httpAddress) => {
      const node = cp.node();
      node.hello("node-1", { httpAddress, lat: -90, lon: 180 });
      await node.push(1);
      expect(cp.server.hub.nodes()[0]?.httpAddress).toBe(httpAddress);
    },
  );
});
