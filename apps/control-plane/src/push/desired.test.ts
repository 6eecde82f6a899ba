import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ScriptVersion, Snapshot } from "../store/types.js";
import { ChangeJournal } from "./change-journal.js";
import { DesiredConfig } from "./desired.js";

function version(name: string, v: number): ScriptVersion {
  const source = `export default {}; // ${name} ${v}`;
  return {
    name,
    version: v,
    sha256: createHash("sha256").update(source).digest("hex"),
    source,
    vars: {},
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 1_000 },
    createdAt: 1,
  };
}

const keys = (desired: DesiredConfig, pop: string) =>
  [...desired.forPop(pop).values()].map((r) => [r.name, r.key]).sort();

describe("the desired config followed change by change", () => {
  it("ends where a fresh read of the same store state would, for every PoP it resolved before", () => {
    const before: Snapshot = {
      revision: 3,
      scripts: [version("a", 1), version("b", 1), version("c", 2)],
      rollouts: [{ name: "c", target: version("c", 3), percent: null, pops: ["fra"], startedAt: 1 }],
    };
    const desired = new DesiredConfig(before);
    // Resolved before the change, so they must be updated in place.
    desired.forPop("fra");
    desired.forPop("ams");

    const after: Snapshot = {
      revision: 6,
      scripts: [version("a", 2), version("c", 2), version("d", 1)],
      rollouts: [{ name: "a", target: version("a", 3), percent: 50, pops: null, startedAt: 2 }],
    };
    expect(
      desired.apply({
        revision: 6,
        changed: ["a", "b", "c", "d"],
        scripts: [version("a", 2), version("c", 2), version("d", 1)],
        rollouts: after.rollouts,
        withheld: new Set(),
      }),
    ).toBe(true);
    const fresh = new DesiredConfig(after);
    for (const pop of ["fra", "ams", "sin"]) expect(keys(desired, pop)).toEqual(keys(fresh, pop));
    expect([...desired.scriptNames()].sort()).toEqual(["a", "c", "d"]);
    expect(desired.changedSince(3)).toEqual(new Set(["a", "b", "c", "d"]));
    expect(desired.changedSince(6)).toEqual(new Set());
  });

  it("withholds a changed script that failed the check (nodes keep what they hold) and ignores older changes", () => {
    const desired = new DesiredConfig({ revision: 1, scripts: [version("a", 1)], rollouts: [] });
    desired.forPop("fra");
    desired.apply({
      revision: 2,
      changed: ["a"],
      scripts: [version("a", 2)],
      rollouts: [],
      withheld: new Set(["a"]),
    });
    expect(desired.forPop("fra").has("a")).toBe(false);
    expect(desired.withheld).toEqual(new Set(["a"]));
    expect(desired.scriptNames().has("a")).toBe(true);
    expect(
      desired.apply({ revision: 2, changed: ["a"], scripts: [], rollouts: [], withheld: new Set() }),
    ).toBe(false);
    expect(desired.revision).toBe(2);
  });
});

describe("the change journal", () => {
  it("answers the names changed after a revision, and null once it no longer reaches back that far", () => {
    const journal = new ChangeJournal(10, 4);
    journal.record(11, ["a", "b"]);
    journal.record(12, ["b"]);
    expect(journal.since(10)).toEqual(new Set(["a", "b"]));
    expect(journal.since(11)).toEqual(new Set(["b"]));
    journal.record(13, ["c", "d"]);
    // Five names held, four allowed: revision 11's entry goes, so 10 is out of reach.
    expect(journal.since(10)).toBeNull();
    expect(journal.since(11)).toEqual(new Set(["b", "c", "d"]));
    expect(journal.since(13)).toEqual(new Set());
  });
});
