import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

describe("Connect: hello, welcome and the first push", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("answers hello with a welcome, then pushes every live script to a node that holds nothing", async () => {
    const hello = await cp.deploy("hello", "export default {}", { GREETING: "hej" });
    const api = await cp.deploy("api");
    const node = cp.node();
    node.hello("fra-1", { pop: "fra" });

    const push = await node.push(1);
    expect(node.messages[0]?.msg?.$case).toBe("welcome");
    expect(node.welcome).toEqual({ controlPlaneId: "cp-test", heartbeatIntervalMs: 5000 });
    expect(push.full).toBe(false);
    expect(push.nonce).not.toBe("");
    expect(push.configVersion).toBe(await cp.store.revision());
    expect(push.removals).toEqual([]);
    expect(push.upserts).toEqual([
      {
        name: "api",
        version: 1,
        sha256: api.sha256,
        source: api.source,
        vars: {},
        limits: { cpuMs: 50, memoryMb: 128, wallMs: 30000 },
        createdAtMs: api.createdAt,
        mainModule: "",
        modules: [],
        kvBindings: {},
      },
      {
        name: "hello",
        version: 1,
        sha256: hello.sha256,
        source: "export default {}",
        vars: { GREETING: "hej" },
        limits: { cpuMs: 50, memoryMb: 128, wallMs: 30000 },
        createdAtMs: hello.createdAt,
        mainModule: "",
        modules: [],
        kvBindings: {},
      },
    ]);
  });

  it("sends a node with a warm cache only what it lacks or holds at another version, and removes what is no longer live", async () => {
    await cp.deploy("same");
    await cp.deploy("newer");
    await cp.deploy("newer");
    await cp.deploy("missing");
    const node = cp.node();
    node.hello("fra-1", { heldVersions: { same: 1, newer: 1, gone: 3 } });

    const push = await node.push(1);
    expect(push.full).toBe(false);
    expect(push.upserts.map((s) => [s.name, s.version])).toEqual([
      ["missing", 1],
      ["newer", 2],
    ]);
    expect(push.removals).toEqual(["gone"]);
  });

  it("sends an empty push carrying the current revision to a node that is already up to date", async () => {
    await cp.deploy("hello");
    const node = cp.node();
    node.hello("fra-1", { heldVersions: { hello: 1 } });

    const push = await node.push(1);
    expect(push.upserts).toEqual([]);
    expect(push.removals).toEqual([]);
    expect(push.configVersion).toBe(await cp.store.revision());
  });

  it("ends a stream whose first message is not hello with INVALID_ARGUMENT and lists no node", async () => {
    const node = cp.node();
    node.heartbeat(0);

    const ended = await node.ended;
    expect(ended.code).toBe(status.INVALID_ARGUMENT);
    expect(ended.details).toMatch(/^EDGE_HELLO_REQUIRED: /);
    expect(node.messages).toEqual([]);
    expect(cp.server.hub.nodes()).toEqual([]);
  });

  it("ends a stream that says hello with an empty node id with INVALID_ARGUMENT", async () => {
    const node = cp.node();
    node.hello("");

    const ended = await node.ended;
    expect(ended.code).toBe(status.INVALID_ARGUMENT);
    expect(ended.details).toMatch(/^EDGE_INVALID_HELLO: /);
    expect(cp.server.hub.nodes()).toEqual([]);
  });

  it("keeps a node listed as disconnected, with what it last acknowledged, once its stream closes", async () => {
    await cp.deploy("hello");
    const node = cp.node();
    node.hello("fra-1");
    const push = await node.push(1);
    node.ack(push);
    await eventually(() => cp.server.hub.nodes()[0]?.configVersion === push.configVersion, "the ack");
    expect(cp.server.hub.nodes()[0]?.status).toBe("healthy");

    node.halfClose();
    expect((await node.ended).code).toBe(status.OK);
    await eventually(
      () => cp.server.hub.nodes()[0]?.status === "disconnected",
      "the node to be disconnected",
    );
    expect(cp.server.hub.nodes()).toMatchObject([
      { id: "fra-1", status: "disconnected", configVersion: push.configVersion, scripts: { hello: 1 } },
    ]);
  });

  it("replaces the older stream when the same node id connects again", async () => {
    const first = cp.node();
    first.hello("fra-1", { httpAddress: "127.0.0.1:1001" });
    await first.push(1);

    const second = cp.node();
    second.hello("fra-1", { httpAddress: "127.0.0.1:1002" });
    await second.push(1);

    const ended = await first.ended;
    expect(ended.code).toBe(status.ABORTED);
    expect(ended.details).toMatch(/^EDGE_SESSION_REPLACED: /);
    expect(cp.server.hub.nodes()).toMatchObject([
      { id: "fra-1", httpAddress: "127.0.0.1:1002", status: "healthy" },
    ]);
  });

  it("lists nodes sorted by id with what their hello said", async () => {
    const b = cp.node();
    b.hello("b-node", {
      pop: "ams",
      lat: 52.37,
      lon: 4.9,
      httpAddress: "127.0.0.1:2002",
      heldVersions: { x: 4 },
    });
    await b.push(1);
    const a = cp.node();
    a.hello("a-node", { pop: "fra", lat: 50.11, lon: 8.68, httpAddress: "127.0.0.1:2001" });
    await a.push(1);

    const nodes = cp.server.hub.nodes();
    expect(nodes.map((n) => n.id)).toEqual(["a-node", "b-node"]);
    expect(nodes[1]).toMatchObject({
      pop: "ams",
      lat: 52.37,
      lon: 4.9,
      httpAddress: "127.0.0.1:2002",
      status: "healthy",
      configVersion: 0,
      scripts: { x: 4 },
      inFlight: 0,
      lastNack: null,
    });
    expect(Number.isNaN(Date.parse(nodes[1]!.lastSeen))).toBe(false);
  });

  it("ends every node stream with UNAVAILABLE when the server closes", async () => {
    const node = cp.node();
    node.hello("fra-1");
    await node.push(1);

    await cp.server.close();
    const ended = await node.ended;
    expect(ended.code).toBe(status.UNAVAILABLE);
  });
});

describe("Connect: node timeout", () => {
  it("reports a node disconnected when nothing was heard within nodeTimeoutMs, though its stream is open", async () => {
    const cp = await startTestControlPlane({ nodeTimeoutMs: 150 });
    try {
      const node = cp.node();
      node.hello("fra-1");
      await node.push(1);
      expect(node.welcome?.heartbeatIntervalMs).toBe(50);

      await eventually(() => cp.server.hub.nodes()[0]?.status === "disconnected", "the node to time out");
      expect(node.isEnded).toBe(false);
    } finally {
      await cp.close();
    }
  });

  it("ends the stream of a node silent for twice nodeTimeoutMs, so it reconnects (perhaps elsewhere)", async () => {
    const cp = await startTestControlPlane({ nodeTimeoutMs: 150 });
    try {
      const node = cp.node();
      node.hello("fra-1");
      await node.push(1);
      const ended = await node.ended;
      expect(ended.code).toBe(status.UNAVAILABLE);
      expect(ended.details).toMatch(/^EDGE_NODE_SILENT: /);
      expect(cp.server.hub.nodes()[0]?.status).toBe("disconnected");
    } finally {
      await cp.close();
    }
  });
});
