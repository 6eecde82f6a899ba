import { afterEach, describe, expect, it } from "vitest";
import { nodeState } from "../store/contract-node-states.js";
import { createSqliteStore } from "../store/sqlite.js";
import type { Store } from "../store/types.js";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

/** Node retention (`EDGE_NODE_RETENTION_HOURS`), set in milliseconds here so sweeps happen during a test. */
describe("node retention", () => {
  let cp: TestControlPlane | undefined;
  let given: Store | undefined;
  afterEach(async () => {
    await cp?.close();
    await given?.close();
    cp = undefined;
    given = undefined;
  });

  const listed = (cp: TestControlPlane): string =>
    cp.server.hub
      .nodes()
      .map((n) => n.id)
      .join();

  it("forgets a node that disconnected longer ago than the retention, here and in the store, and lists it again when it reconnects", async () => {
    const plane = await startTestControlPlane({ nodeRetentionMs: 300 });
    cp = plane;
    const first = plane.node();
    first.hello("fra-1", { pop: "fra" });
    first.ack(await first.push(1));
    await until(async () => (await plane.store.listNodeStates()).length === 1, "the node to be shared");
    first.halfClose();
    await first.ended;

    await eventually(() => listed(plane) === "", "the disconnected node to be forgotten");
    await until(async () => (await plane.store.listNodeStates()).length === 0, "the store to forget it too");

    const again = plane.node();
    again.hello("fra-1", { pop: "fra" });
    again.ack(await again.push(1));
    expect(plane.server.hub.nodes()).toMatchObject([{ id: "fra-1", pop: "fra", status: "healthy" }]);
  });

  it("keeps a node whose stream is open however long it has been silent", async () => {
    const plane = await startTestControlPlane({ nodeRetentionMs: 300 });
    cp = plane;
    const quiet = plane.node();
    quiet.hello("quiet-1");
    quiet.ack(await quiet.push(1));
    // Heard from after the quiet one: once it is forgotten, the quiet one was old enough to be too.
    const gone = plane.node();
    gone.hello("gone-1");
    gone.ack(await gone.push(1));
    gone.halfClose();
    await gone.ended;

    await eventually(() => listed(plane) === "quiet-1", "the disconnected node to be forgotten");
    expect(plane.server.hub.nodes()).toMatchObject([{ id: "quiet-1", status: "healthy" }]);
  });

  it("forgets node states another replica left in the store once they are older than the retention", async () => {
    given = createSqliteStore(":memory:");
    const now = Date.now();
    await given.saveNodeStates([
      // A replica that died leaves its nodes `connected`.
      nodeState("orphan-1", { controlPlaneId: "cp-dead", connected: true, lastSeenMs: now - 120_000 }),
      nodeState("recent-1", { controlPlaneId: "cp-other", connected: false, lastSeenMs: now - 1_000 }),
    ]);
    const plane = await startTestControlPlane({ store: given, nodeRetentionMs: 60_000 });
    cp = plane;

    await until(
      async () => (await plane.store.listNodeStates()).map((s) => s.id).join() === "recent-1",
      "the orphan to be pruned from the store",
    );
    await eventually(() => listed(plane) === "recent-1", "the hub to list only the recent node");
    expect(plane.server.hub.nodes()).toMatchObject([{ id: "recent-1", status: "disconnected" }]);
  });
});

/** Polls an async probe every 20 ms until it holds; fails after 5 s. */
async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
