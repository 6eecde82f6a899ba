import { afterEach, describe, expect, it } from "vitest";
import { nodeState } from "../store/contract-node-states.js";
import { createSqliteStore } from "../store/sqlite.js";
import type { Store } from "../store/types.js";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

describe("the node view of a freshly started control plane", () => {
  let cp: TestControlPlane | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await cp?.close();
    await store?.close();
    cp = undefined;
  });

  it("is not settled while a node it knew from before is still reconnecting, and settles once it is back", async () => {
    store = createSqliteStore(":memory:");
    // What the previous process shared about fra-1 before it went away.
    await store.saveNodeStates([
      nodeState("fra-1", { pop: "fra", connected: true, lastSeenMs: Date.now() - 60_000 }),
    ]);
    cp = await startTestControlPlane({ store, nodeSettleMs: 600_000 });
    const hub = cp.server.hub;
    await eventually(() => hub.nodes().length === 1, "the shared state of fra-1");
    expect(hub.nodes()[0]?.status).toBe("disconnected");
    expect(hub.viewSettled()).toBe(false);

    const node = cp.node();
    node.hello("fra-1", { pop: "fra" });
    await node.push(1);
    expect(hub.viewSettled()).toBe(true);
  });

  it("is not settled with an empty list (an empty store says nothing about the fleet) until the window passed", async () => {
    cp = await startTestControlPlane({ nodeSettleMs: 600_000 });
    expect(cp.server.hub.viewSettled()).toBe(false);
    await cp.close();
    cp = await startTestControlPlane({ nodeSettleMs: 0 });
    expect(cp.server.hub.viewSettled()).toBe(true);
  });
});
