import { createHash } from "node:crypto";
import { versionDigest } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import type { ScriptVersion, Snapshot } from "../store/types.js";
import { type ConfigDelta, packDelta } from "./config-diff.js";
import { ConsistencyCheck } from "./consistency.js";
import { DesiredConfig, type Resource } from "./desired.js";

const sha = (source: string) => createHash("sha256").update(source).digest("hex");

function version(name: string, v: number, source = `export default {}; // ${name} ${v}`): ScriptVersion {
  return {
    name,
    version: v,
    sha256: sha(source),
    source,
    vars: {},
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 1_000 },
    createdAt: 1,
  };
}

function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return { revision: 7, scripts: [version("a", 1), version("b", 3)], rollouts: [], ...overrides };
}

describe("the consistency check before publishing", () => {
  const check = new ConsistencyCheck({ maxResourceBytes: 100_000 });

  it("passes a sound snapshot with a rollout", () => {
    const result = check.check(
      snapshot({ rollouts: [{ name: "b", target: version("b", 4), percent: 10, pops: null, startedAt: 1 }] }),
    );
    expect(result).toEqual({ withheld: new Set(), problems: [] });
  });

  it("checks a multi-module version's hash over every module: a changed module withholds it", () => {
    const modules = {
      main: "index.js",
      modules: [{ name: "data.bin", type: "data" as const, content: new Uint8Array([1, 2, 3]) }],
    };
    const source = 'import d from "./data.bin"; export default { fetch: () => new Response(d) };';
    const sound = {
      ...version("m", 1, source),
      modules,
      sha256: versionDigest(source, "index.js", modules.modules),
    };
    expect(check.check(snapshot({ scripts: [sound] })).withheld).toEqual(new Set());
    const changed = {
      ...sound,
      version: 2,
      modules: {
        main: "index.js",
        modules: [{ ...modules.modules[0]!, content: new Uint8Array([1, 2, 4]) }],
      },
    };
    const result = check.check(snapshot({ scripts: [changed] }));
    expect([...result.withheld]).toEqual(["m"]);
    expect(result.problems.join("\n")).toMatch(/m: the source of version 2 does not match its sha256/);
  });

  it("withholds, by name, a source that does not match its hash, bad limits, a bad name, and an oversized script", () => {
    const tampered = { ...version("a", 1), source: "export default { tampered: true };" };
    const greedy = { ...version("c", 1), limits: { cpuMs: 0, memoryMb: 1, wallMs: 1 } };
    const named = version("Bad_Name", 1);
    const huge = version("huge", 1, `export default {};//${"x".repeat(200_000)}`);
    const result = check.check(snapshot({ scripts: [tampered, version("b", 3), greedy, named, huge] }));
    expect([...result.withheld].sort()).toEqual(["Bad_Name", "a", "c", "huge"]);
    expect(result.problems.join("\n")).toMatch(/a: the source of version 1 does not match its sha256/);
  });

  it("withholds a script whose rollout targets the active version, another script, nothing live, or a bad share", () => {
    const cases: Snapshot["rollouts"] = [
      { name: "a", target: version("a", 1), percent: 10, pops: null, startedAt: 1 },
      { name: "b", target: version("a", 2), percent: 10, pops: null, startedAt: 1 },
      { name: "ghost", target: version("ghost", 2), percent: 10, pops: null, startedAt: 1 },
    ];
    for (const rollout of cases) expect(check.check(snapshot({ rollouts: [rollout] })).withheld.size).toBe(1);
    for (const [percent, pops] of [
      [0, null],
      [101, null],
      [null, []],
      [10, ["fra"]],
    ] as const) {
      const rollout = {
        name: "b",
        target: version("b", 4),
        percent,
        pops: pops === null ? null : [...pops],
        startedAt: 1,
      };
      expect(check.check(snapshot({ rollouts: [rollout] })).withheld).toEqual(new Set(["b"]));
    }
  });

  it("leaves withheld names out of what nodes are sent, without turning them into removals", () => {
    const desired = new DesiredConfig(snapshot(), new Set(["a"]));
    expect([...desired.forPop("fra").keys()]).toEqual(["b"]);
    expect(desired.withheld.has("a")).toBe(true);
  });
});

describe("packing a delta into pushes", () => {
  const resource = (name: string, bytes: number): Resource => ({
    name,
    key: "1",
    bytes,
    script: {} as Resource["script"],
  });

  it("fills each push up to the budget and puts removals in the last one", () => {
    const delta: ConfigDelta = {
      upserts: [resource("a", 40), resource("b", 40), resource("c", 40), resource("d", 100)],
      removals: ["x"],
    };
    const packs = packDelta(delta, 100);
    expect(packs.map((p) => [p.upserts.map((r) => r.name), p.removals])).toEqual([
      [["a", "b"], []],
      [["c"], []],
      [["d"], ["x"]],
    ]);
  });

  it("makes one push of an empty delta", () => {
    expect(packDelta({ upserts: [], removals: [] }, 100)).toEqual([{ upserts: [], removals: [] }]);
  });
});
