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

  it("settles pushes in flight in order and ignores ACKs of unknown or already settled nonces", async () => {
    await cp.deploy("a");
    const fra = cp.node();
    fra.hello("fra-1");
    const first = await fra.push(1);
    await cp.deploy("b");
    cp.server.hub.notifyChanged();
    const second = await fra.push(2);

    fra.send({ $case: "ack", value: { nonce: "made-up", configVersion: 99, errors: [] } });
    // Messages are handled in order: once the heartbeat shows, the ACK was seen.
    fra.heartbeat(7);
    await eventually(() => node("fra-1")?.inFlight === 7, "the heartbeat");
    expect(node("fra-1")).toMatchObject({ configVersion: 0, scripts: {} });

    fra.ack(first);
    await eventually(() => node("fra-1")?.configVersion === first.configVersion, "the first ack");
    expect(node("fra-1")?.scripts).toEqual({ a: 1 });

    fra.ack(second);
    await eventually(() => node("fra-1")?.configVersion === second.configVersion, "the second ack");
    expect(node("fra-1")?.scripts).toEqual({ a: 1, b: 1 });

    // The first one again: settled already, so it changes nothing.
    fra.ack(first);
    fra.heartbeat(8);
    await eventually(() => node("fra-1")?.inFlight === 8, "the second heartbeat");
    expect(node("fra-1")).toMatchObject({ configVersion: second.configVersion, scripts: { a: 1, b: 1 } });
  });

  it("keeps a NACK of an earlier push in flight: the script stays at its old version and is parked", async () => {
    await cp.deploy("app");
    const fra = cp.node();
    fra.hello("fra-1", { heldVersions: { app: 1 }, heldReleases: { app: "1" } });
    fra.ack(await fra.push(1));
    await cp.deploy("app");
    cp.server.hub.notifyChanged();
    const bad = await fra.push(2);
    await cp.deploy("other");
    cp.server.hub.notifyChanged();
    const next = await fra.push(3);

    fra.ack(bad, [{ name: "app", version: 2, errorDetail: "ReferenceError: x is not defined" }]);
    fra.ack(next);
    await eventually(() => node("fra-1")?.configVersion === next.configVersion, "both acks");
    expect(node("fra-1")).toMatchObject({
      scripts: { app: 1, other: 1 },
      nackCount: 1,
      parked: { app: "2" },
      lastNack: { script: "app", version: 2 },
    });
  });

  it("counts NACKs, lists the parked release, and unparks it when a new version is deployed", async () => {
    await cp.deploy("app");
    const fra = cp.node();
    fra.hello("fra-1");
    fra.ack(await fra.push(1));
    for (const n of [2, 3]) {
      await cp.deploy("app");
      cp.server.hub.notifyChanged();
      const bad = await fra.push(n);
      fra.ack(bad, [{ name: "app", version: n, errorDetail: `bad v${n}` }]);
      await eventually(() => node("fra-1")?.nackCount === n - 1, `NACK #${n - 1}`);
      expect(node("fra-1")).toMatchObject({
        status: "unhealthy",
        parked: { app: String(n) },
        scripts: { app: 1 },
      });
    }
    await cp.store.setActive("app", 1);
    cp.server.hub.notifyChanged();
    // The desired release moved away from the parked one: nothing to send (the node runs v1), and unparked.
    await eventually(
      () => Object.keys(node("fra-1")?.parked ?? { x: 1 }).length === 0,
      "the release to be unparked",
    );
    expect(node("fra-1")?.nackCount).toBe(2);
  });

  it("parks a release the node accepted unprepared and then could not prepare (a NACK after the ACK in its heartbeat)", async () => {
    await cp.deploy("app");
    await cp.deploy("other");
    const fra = cp.node();
    fra.hello("fra-1");
    fra.ack(await fra.push(1));
    await eventually(() => node("fra-1")?.scripts.app === 1, "the first ACK");

    // A version it does not hold, or an unknown script, parks nothing.
    fra.heartbeat(
      0,
      [],
      [],
      [
        { name: "app", version: 9, errorDetail: "not held" },
        { name: "ghost", version: 1, errorDetail: "unknown" },
      ],
    );
    fra.heartbeat(0, [], [], [{ name: "app", version: 1, errorDetail: "Error: boom at the top" }]);
    await eventually(() => node("fra-1")?.parked.app === "1", "the late NACK to park app@1");
    expect(node("fra-1")).toMatchObject({
      nackCount: 1,
      lastNack: { script: "app", version: 1, error: "Error: boom at the top" },
      scripts: { app: 1, other: 1 },
    });
    // Repeated in every heartbeat while the node holds it: counted once.
    fra.heartbeat(0, [], [], [{ name: "app", version: 1, errorDetail: "Error: boom at the top" }]);
    fra.heartbeat(1);
    await eventually(() => node("fra-1")?.inFlight === 1, "the later heartbeats");
    expect(node("fra-1")?.nackCount).toBe(1);

    // A new version unparks it and goes out as usual.
    await cp.deploy("app");
    cp.server.hub.notifyChanged();
    const fixed = await fra.push(2);
    expect(fixed.upserts.map((s) => [s.name, s.version])).toEqual([["app", 2]]);
    expect(node("fra-1")?.parked).toEqual({});
  });

  it("does not send a release the node says it rejected, even on a fresh stream to another replica", async () => {
    await cp.deploy("app");
    await cp.deploy("app");
    const fra = cp.node();
    fra.hello("fra-1", { heldReleases: { app: "1" }, rejectedReleases: { app: "2" } });
    const push = await fra.push(1);
    expect(push.upserts).toEqual([]);
    expect(push.removals).toEqual([]);
    fra.ack(push);
    await eventually(() => node("fra-1")?.configVersion === push.configVersion, "the ack");
    expect(node("fra-1")).toMatchObject({ scripts: { app: 1 }, parked: { app: "2" } });

    await cp.deploy("app");
    cp.server.hub.notifyChanged();
    expect((await fra.push(2)).upserts.map((s) => [s.name, s.version])).toEqual([["app", 3]]);
  });

  it("shows a node unhealthy while its own health checks fail, and healthy again after", async () => {
    const fra = cp.node();
    fra.hello("fra-1");
    fra.ack(await fra.push(1));
    fra.heartbeat(0, ["cache-write"]);
    await eventually(() => node("fra-1")?.status === "unhealthy", "the failing check");
    expect(node("fra-1")?.failingChecks).toEqual(["cache-write"]);
    fra.heartbeat(0, []);
    await eventually(() => node("fra-1")?.status === "healthy", "the check to pass");
  });

  it("shows the scripts a node is preparing again after transient failures, and drops them once done", async () => {
    const fra = cp.node();
    fra.hello("fra-1");
    fra.ack(await fra.push(1));
    fra.heartbeat(
      0,
      [],
      [{ name: "app", reason: "The script's top-level code exceeded its start-up CPU limit" }],
    );
    await eventually(() => node("fra-1")?.retrying?.app !== undefined, "the retrying report");
    expect(node("fra-1")).toMatchObject({
      status: "healthy",
      retrying: { app: "The script's top-level code exceeded its start-up CPU limit" },
    });
    fra.heartbeat(0, [], []);
    await eventually(() => node("fra-1")?.retrying === undefined, "the retry to end");
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
