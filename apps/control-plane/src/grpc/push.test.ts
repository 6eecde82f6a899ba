import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane, type TestNode } from "./test-node.js";

describe("pushing store changes to connected nodes", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  /** A node that has received and acknowledged its first push. */
  async function connected(id: string): Promise<TestNode> {
    const node = cp.node();
    node.hello(id);
    node.ack(await node.push(1));
    return node;
  }

  it("sends a deploy to every connected node as a delta with a fresh nonce and the new revision", async () => {
    await cp.deploy("stays");
    const fra = await connected("fra-1");
    const ams = await connected("ams-1");

    await cp.deploy("fresh");
    cp.server.hub.notifyChanged();

    const revision = await cp.store.revision();
    for (const node of [fra, ams]) {
      const push = await node.push(2);
      expect(push.full).toBe(false);
      expect(push.configVersion).toBe(revision);
      expect(push.upserts.map((s) => [s.name, s.version])).toEqual([["fresh", 1]]);
      expect(push.removals).toEqual([]);
      expect(push.nonce).not.toBe(node.pushes[0]!.nonce);
    }
    expect(fra.pushes[1]!.nonce).not.toBe(ams.pushes[1]!.nonce);
  });

  it("pushes a removal for a deleted script and the older version after a rollback", async () => {
    await cp.deploy("doomed");
    await cp.deploy("rolled");
    await cp.deploy("rolled");
    const node = await connected("fra-1");

    await cp.store.deleteScript("doomed");
    cp.server.hub.notifyChanged();
    const removal = await node.push(2);
    expect(removal.upserts).toEqual([]);
    expect(removal.removals).toEqual(["doomed"]);

    await cp.store.setActive("rolled", 1);
    cp.server.hub.notifyChanged();
    const rollback = await node.push(3);
    expect(rollback.upserts.map((s) => [s.name, s.version])).toEqual([["rolled", 1]]);
    expect(rollback.removals).toEqual([]);
  });

  it("coalesces a burst of 20 deploys into fewer pushes, the last carrying the final version", async () => {
    const node = await connected("fra-1");

    for (let i = 0; i < 20; i++) {
      await cp.deploy("busy");
      cp.server.hub.notifyChanged();
    }
    const revision = await cp.store.revision();
    await node.until(() => node.pushes.at(-1)?.configVersion === revision, "the push of the final revision");

    const burst = node.pushes.slice(1);
    expect(burst.length).toBeGreaterThan(0);
    expect(burst.length).toBeLessThan(20);
    expect(burst.at(-1)!.upserts.map((s) => [s.name, s.version])).toEqual([["busy", 20]]);
  });

  it("sends nothing when notified without any change", async () => {
    const node = await connected("fra-1");
    cp.server.hub.notifyChanged();
    // Lets that notification's debounce run out first (on a slow machine both merge, which proves less).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cp.deploy("after");
    cp.server.hub.notifyChanged();

    const push = await node.push(2);
    expect(push.upserts.map((s) => s.name)).toEqual(["after"]);
    expect(node.pushes).toHaveLength(2);
  });
});

describe("what the hub refuses to publish, and how it splits what it does", () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.close();
    cp = undefined;
  });

  it("withholds a script whose source does not match its sha256, keeping it on nodes, and publishes the rest", async () => {
    cp = await startTestControlPlane();
    await cp.deploy("good");
    await cp.deploy("bad");
    const node = cp.node();
    node.hello("fra-1", { heldReleases: { bad: "1", good: "1" } });
    node.ack(await node.push(1));

    // A version stored with a hash that does not match its source (corruption, or a bug upstream).
    const source = "export default {};";
    await cp.store.putVersion("bad", { sha256: "0".repeat(64), source, vars: {}, limits: LIMITS });
    await cp.deploy("good");
    cp.server.hub.notifyChanged();

    const push = await node.push(2);
    expect(push.upserts.map((s) => [s.name, s.version])).toEqual([["good", 2]]);
    expect(push.removals).toEqual([]);
  });

  it("pushes a script larger than gRPC's 4 MiB default message size in one piece", async () => {
    cp = await startTestControlPlane();
    const node = cp.node();
    node.hello("fra-1");
    node.ack(await node.push(1));
    const source = `export default {};\n//${"x".repeat(5 * 1024 * 1024)}`;
    await cp.deploy("huge", source);
    cp.server.hub.notifyChanged();
    const push = await node.push(2);
    expect(push.upserts.map((s) => [s.name, s.source.length])).toEqual([["huge", source.length]]);
  });

  it("splits a delta above the message budget into several pushes; only the last carries the new revision", async () => {
    cp = await startTestControlPlane({ grpcMaxMessageBytes: 4 * 1024 * 1024 });
    const node = cp.node();
    node.hello("fra-1");
    node.ack(await node.push(1));
    const before = await cp.store.revision();

    const big = (tag: string) => `export default {};\n//${tag}${"x".repeat(1_500_000)}`;
    for (const name of ["a", "b", "c"]) await cp.deploy(name, big(name));
    cp.server.hub.notifyChanged();
    const revision = await cp.store.revision();

    await node.until(() => node.pushes.at(-1)?.configVersion === revision, "the last part");
    const parts = node.pushes.slice(1);
    expect(parts.map((p) => p.upserts.map((s) => s.name))).toEqual([["a", "b"], ["c"]]);
    expect(parts.map((p) => p.configVersion)).toEqual([before, revision]);
    for (const part of parts) node.ack(part);
    await eventually(
      () => cp?.server.hub.nodes()[0]?.configVersion === revision,
      "the node to be at the new revision",
    );
    expect(cp.server.hub.nodes()[0]?.scripts).toEqual({ a: 1, b: 1, c: 1 });
  });
});

const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };
