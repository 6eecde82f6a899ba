import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import type { NodeState } from "./types.js";

/** The contract of shared node states: soft state beside the config. Registered inside `storeContract`. */
export function nodeStateContract(c: ContractContext): void {
  it("saves node states by id, keeping the one last seen latest, without moving the revision", async (ctx) => {
    const store = c.store();
    const before = await store.revision();
    await store.saveNodeStates([nodeState("b-1", { pop: "b" }), nodeState("a-1", { configVersion: 3 })]);
    await store.saveNodeStates([nodeState("b-1", { pop: "b", lastSeenMs: 2_000, nackCount: 2 })]);
    // A replica that lost the node late reports older news: ignored.
    await store.saveNodeStates([nodeState("b-1", { connected: false, lastSeenMs: 1_500 })]);
    await store.saveNodeStates([]);
    expect(await store.listNodeStates()).toEqual([
      nodeState("a-1", { configVersion: 3 }),
      nodeState("b-1", { pop: "b", lastSeenMs: 2_000, nackCount: 2 }),
    ]);
    expect(await store.revision()).toBe(before);
    if (c.canReopen()) expect(await (await c.reopen(ctx)).listNodeStates()).toHaveLength(2);
  });

  it("prunes the states last seen before a cutoff, connected or not, and keeps the rest", async (ctx) => {
    const store = c.store();
    await store.saveNodeStates([
      nodeState("gone", { connected: false, lastSeenMs: 1_000 }),
      // Left `connected` by a replica that died: its age is what counts.
      nodeState("orphan", { connected: true, lastSeenMs: 1_999 }),
      nodeState("edge", { connected: false, lastSeenMs: 2_000 }),
      nodeState("live", { connected: true, lastSeenMs: 5_000 }),
    ]);
    const revision = await store.revision();
    expect(await store.pruneNodeStates(2_000)).toBe(2);
    expect((await store.listNodeStates()).map((s) => s.id)).toEqual(["edge", "live"]);
    expect(await store.pruneNodeStates(2_000)).toBe(0);
    expect(await store.revision()).toBe(revision);
    if (c.canReopen()) {
      expect((await (await c.reopen(ctx)).listNodeStates()).map((s) => s.id)).toEqual(["edge", "live"]);
    }
  });

  it("lists the other states when one does not decode (NaN coordinates stored as null by an older version)", async () => {
    const store = c.store();
    await store.saveNodeStates([
      nodeState("bad", { lat: Number.NaN, lon: Number.POSITIVE_INFINITY }),
      nodeState("good", { lastSeenMs: 2_000 }),
    ]);
    expect((await store.listNodeStates()).map((s) => s.id)).toEqual(["good"]);
    // Still pruned by its age.
    expect(await store.pruneNodeStates(1_500)).toBe(1);
    expect((await store.listNodeStates()).map((s) => s.id)).toEqual(["good"]);
  });

  it("takes a pruned node's state again when it is saved anew", async () => {
    const store = c.store();
    await store.saveNodeStates([nodeState("back", { connected: false, lastSeenMs: 1_000 })]);
    expect(await store.pruneNodeStates(2_000)).toBe(1);
    await store.saveNodeStates([nodeState("back", { connected: true, lastSeenMs: 900 })]);
    expect(await store.listNodeStates()).toEqual([nodeState("back", { connected: true, lastSeenMs: 900 })]);
  });
}

export function nodeState(id: string, overrides: Partial<NodeState> = {}): NodeState {
  return {
    id,
    pop: "fra",
    lat: 50.1,
    lon: 8.7,
    httpAddress: "127.0.0.1:8101",
    agentVersion: "test",
    controlPlaneId: "cp-1",
    connected: true,
    lastSeenMs: 1_000,
    configVersion: 1,
    releases: { hello: "2", app: "3+4@10" },
    parked: { broken: "5" },
    nackCount: 1,
    lastNack: { script: "broken", version: 5, error: "SyntaxError", at: 900 },
    failingChecks: [],
    lastAckHadErrors: false,
    inFlight: 0,
    ...overrides,
  };
}
