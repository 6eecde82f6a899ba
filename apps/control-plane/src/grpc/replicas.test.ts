import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../store/redis.js";
import type { Store } from "../store/types.js";
import { startTestRedis, type TestRedis } from "../testing/test-redis.js";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

/** Two control-plane replicas on one Redis, as a cluster runs them. */
describe("two control-plane replicas on one Redis", () => {
  let redis: TestRedis;
  const stores: Store[] = [];
  const replicas: TestControlPlane[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const replica of replicas.splice(0)) await replica.close();
    for (const store of stores.splice(0)) await store.close();
  });

  async function twoReplicas(): Promise<[TestControlPlane, TestControlPlane]> {
    const keyPrefix = redis.uniquePrefix();
    for (const id of ["cp-a", "cp-b"]) {
      const store = await createRedisStore(redis.url, { keyPrefix });
      stores.push(store);
      replicas.push(await startTestControlPlane({ store, controlPlaneId: id, nodeTimeoutMs: 1_500 }));
    }
    return [replicas[0]!, replicas[1]!];
  }

  it("pushes a deploy accepted by one replica to the nodes connected to the other", async () => {
    const [a, b] = await twoReplicas();
    const onB = b.node();
    onB.hello("sin-1", { pop: "sin" });
    onB.ack(await onB.push(1));

    // Written through replica A, which tells only its own hub; B learns from the change stream.
    await a.deploy("hello");
    a.server.hub.notifyChanged();
    const push = await onB.push(2);
    expect(push.upserts.map((s) => [s.name, s.version])).toEqual([["hello", 1]]);
    expect(push.configVersion).toBe(await a.store.revision());
  });

  it("lists every node on every replica, each with the replica serving it", async () => {
    const [a, b] = await twoReplicas();
    await a.deploy("hello");
    const onA = a.node();
    onA.hello("fra-1", { pop: "fra" });
    onA.ack(await onA.push(1));
    const onB = b.node();
    onB.hello("sin-1", { pop: "sin" });
    onB.ack(await onB.push(1));

    for (const replica of [a, b]) {
      await eventually(
        () =>
          replica.server.hub
            .nodes()
            .filter((n) => n.status === "healthy" && n.scripts.hello === 1)
            .map((n) => n.id)
            .join() === "fra-1,sin-1",
        "both nodes, healthy and on v1, on each replica",
      );
    }
    expect(a.server.hub.nodes().map((n) => [n.id, n.controlPlaneId])).toEqual([
      ["fra-1", "cp-a"],
      ["sin-1", "cp-b"],
    ]);
  });

  it("shows a node that moved to the other replica as connected there, not as the old replica last saw it", async () => {
    const [a, b] = await twoReplicas();
    const first = a.node();
    first.hello("fra-1", { pop: "fra" });
    first.ack(await first.push(1));
    first.halfClose();
    await first.ended;

    const again = b.node();
    again.hello("fra-1", { pop: "fra" });
    again.ack(await again.push(1));
    await eventually(() => {
      const seen = a.server.hub.nodes().find((n) => n.id === "fra-1");
      return seen?.status === "healthy" && seen.controlPlaneId === "cp-b";
    }, "replica A to see the node on B");
  });
});
