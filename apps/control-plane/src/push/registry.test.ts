import type { Hello } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { remoteReadEveryMs } from "./hub.js";
import { NodeRegistry } from "./registry.js";

function hello(nodeId: string): Hello {
  return {
    nodeId,
    pop: "fra",
    lat: 50.1,
    lon: 8.7,
    httpAddress: "127.0.0.1:1",
    agentVersion: "test",
    heldVersions: {},
    heldReleases: {},
    rejectedReleases: {},
  } as Hello;
}

describe("sharing node states through the store", () => {
  it("shares changed states at once, and ACK-only changes in batches no more often than asked", () => {
    let now = 1_000;
    const registry = new NodeRegistry("cp-1", 15_000, () => now);
    const a = registry.attach(hello("a"), {}).record;
    const b = registry.attach(hello("b"), {}).record;
    expect(registry.takeStatesToShare(now, 5_000, 3_000).map((s) => s.id)).toEqual(["a", "b"]);

    now += 100;
    a.ackDirty = true;
    // The batch window opened at the first share: ACK-only changes wait for it.
    expect(registry.takeStatesToShare(now, 5_000, 3_000)).toEqual([]);
    b.dirty = true;
    expect(registry.takeStatesToShare(now, 5_000, 3_000).map((s) => s.id)).toEqual(["b"]);
    now += 3_000;
    expect(registry.takeStatesToShare(now, 5_000, 3_000).map((s) => s.id)).toEqual(["a"]);
    expect(registry.takeStatesToShare(now, 5_000, 3_000)).toEqual([]);
  });

  it("reads and batches every second for small fleets, less often past 2,000 nodes, at most every 5 s", () => {
    expect([0, 1_999, 2_000, 6_500, 10_000, 1_000_000].map(remoteReadEveryMs)).toEqual([
      0, 0, 1_000, 3_000, 5_000, 5_000,
    ]);
  });
});
