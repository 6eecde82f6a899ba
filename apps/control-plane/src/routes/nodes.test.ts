import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NodeView } from "../push/types.js";
import { type Harness, startHarness } from "../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe("GET /v1/nodes", () => {
  it("lists no nodes when none is connected", async () => {
    const res = await h.request({ method: "GET", url: "/v1/nodes" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ nodes: [], settled: true });
  });

  it("returns the hub's view of every node as is", async () => {
    const nodes: NodeView[] = [
      {
        id: "node-a",
        pop: "fra",
        lat: 50.1,
        lon: 8.7,
        httpAddress: "127.0.0.1:9001",
        status: "healthy",
        lastSeen: "2024-01-01T00:00:00.000Z",
        configVersion: 4,
        scripts: { hello: 2 },
        canaries: {},
        inFlight: 3,
        lastNack: null,
        nackCount: 0,
        parked: {},
        failingChecks: [],
        controlPlaneId: "cp-a",
      },
      {
        id: "node-b",
        pop: "sin",
        lat: 1.35,
        lon: 103.8,
        httpAddress: "127.0.0.1:9002",
        status: "disconnected",
        lastSeen: "2024-01-01T00:00:00.000Z",
        configVersion: 3,
        scripts: {},
        canaries: {},
        inFlight: 0,
        lastNack: { script: "hello", version: 2, error: "boom", at: 1 },
        nackCount: 1,
        parked: { hello: "2" },
        failingChecks: [],
        controlPlaneId: "cp-a",
      },
    ];
    h.hub.nodeList = nodes;
    const res = await h.request({ method: "GET", url: "/v1/nodes" });
    // As is, plus each node's KV replication lag (null: this replica does not stream KV to it).
    expect(res.json()).toEqual({ nodes: nodes.map((node) => ({ ...node, kv: null })), settled: true });
  });
});
