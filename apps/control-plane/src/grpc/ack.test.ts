import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

describe("ACKs, NACKs and heartbeats", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  const node = (id: string) => cp.server.hub.nodes().find((n) => n.id === id);

  it("records the acknowledged revision and script versions in nodes()", async () => {
    await cp.deploy("a");
    await cp.deploy("b");
    const fra = cp.node();
    fra.hello("fra-1", { heldVersions: { a: 1 } });
    const push = await fra.push(1);
    expect(node("fra-1")).toMatchObject({ configVersion: 0, scripts: { a: 1 } });

    fra.ack(push);
    await eventually(() => node("fra-1")?.configVersion === push.configVersion, "the ack to be recorded");
    expect(node("fra-1")).toMatchObject({ status: "healthy", scripts: { a: 1, b: 1 }, lastNack: null });
  });

  it("records a rejected script as lastNack, keeps its previous version, and does not push it again", async () => {
    await cp.deploy("app");
    const fra = cp.node();
    fra.hello("fra-1");
    fra.ack(await fra.push(1));

    await cp.deploy("app");
    cp.server.hub.notifyChanged();
    const bad = await fra.push(2);
    expect(bad.upserts.map((s) => [s.name, s.version])).toEqual([["app", 2]]);
    fra.ack(bad, [{ name: "app", version: 2, errorDetail: "SyntaxError: Unexpected token" }]);
    await eventually(() => node("fra-1")?.status === "unhealthy", "the nack to be recorded");
    expect(node("fra-1")).toMatchObject({
      configVersion: bad.configVersion,
      scripts: { app: 1 },
      lastNack: { script: "app", version: 2, error: "SyntaxError: Unexpected token" },
    });

    // Another change: the rejected version is not part of it.
    await cp.deploy("other");
    cp.server.hub.notifyChanged();
    const next = await fra.push(3);
    expect(next.upserts.map((s) => [s.name, s.version])).toEqual([["other", 1]]);
    fra.ack(next);
    await eventually(() => node("fra-1")?.status === "healthy", "a clean ack");
    expect(node("fra-1")).toMatchObject({
      scripts: { app: 1, other: 1 },
      lastNack: { script: "app", version: 2 },
    });

    // A newer version of the rejected script is pushed again.
    await cp.deploy("app");
    cp.server.hub.notifyChanged();
    const fixed = await fra.push(4);
    expect(fixed.upserts.map((s) => [s.name, s.version])).toEqual([["app", 3]]);
  });

  it("ignores an ACK whose nonce is not the stream's latest push", async () => {
    await cp.deploy("a");
    const fra = cp.node();
    fra.hello("fra-1");
    const first = await fra.push(1);
    await cp.deploy("b");
    cp.server.hub.notifyChanged();
    const second = await fra.push(2);

    fra.ack(first);
    fra.send({ $case: "ack", value: { nonce: "made-up", configVersion: 99, errors: [] } });
    // Messages are handled in order: once the heartbeat shows, both ACKs were seen.
    fra.heartbeat(7);
    await eventually(() => node("fra-1")?.inFlight === 7, "the heartbeat");
    expect(node("fra-1")).toMatchObject({ configVersion: 0, scripts: {} });

    fra.ack(second);
    await eventually(() => node("fra-1")?.configVersion === second.configVersion, "the latest ack");
    expect(node("fra-1")?.scripts).toEqual({ a: 1, b: 1 });
  });

  it("updates inFlight and lastSeen from heartbeats", async () => {
    const fra = cp.node();
    fra.hello("fra-1");
    await fra.push(1);
    const before = Date.parse(node("fra-1")!.lastSeen);

    fra.heartbeat(3);
    await eventually(() => node("fra-1")?.inFlight === 3, "the heartbeat");
    expect(Date.parse(node("fra-1")!.lastSeen)).toBeGreaterThanOrEqual(before);
  });
});
