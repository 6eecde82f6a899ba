import { describe, expect, it } from "vitest";
import { ControlMessage, NodeMessage, parseReleaseKey, releaseKey } from "../src/index.js";

describe("edge.v1 codec", () => {
  it("round-trips a push carrying scripts, vars, limits and a multi-module version's modules through the wire format", () => {
    const message: ControlMessage = {
      msg: {
        $case: "push",
        value: {
          nonce: "n-1",
          configVersion: 42,
          full: true,
          upserts: [
            {
              name: "hello",
              version: 3,
              sha256: "ab".repeat(32),
              source: "export default { fetch() { return new Response('hi') } }",
              vars: { GREETING: "hej" },
              limits: { cpuMs: 50, memoryMb: 128, wallMs: 30000 },
              createdAtMs: 1_700_000_000_000,
              mainModule: "index.js",
              modules: [
                { name: "add.wasm", type: "wasm", content: Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]) },
                { name: "index.js.map", type: "sourcemap", content: Buffer.from("{}") },
              ],
              kvBindings: { CACHE: "ab".repeat(16) },
            },
          ],
          removals: ["gone"],
        },
      },
    };
    const bytes = ControlMessage.encode(message).finish();
    expect(ControlMessage.decode(bytes)).toEqual(message);
  });

  it("round-trips a node's hello with the versions it already holds", () => {
    const message: NodeMessage = {
      msg: {
        $case: "hello",
        value: {
          nodeId: "fra-1",
          pop: "fra",
          lat: 50.11,
          lon: 8.68,
          httpAddress: "127.0.0.1:8101",
          agentVersion: "0.1.0",
          heldVersions: { hello: 2, other: 7 },
          heldReleases: { hello: "2", other: "7+8@10" },
          rejectedReleases: { broken: "4" },
        },
      },
    };
    expect(NodeMessage.decode(NodeMessage.encode(message).finish())).toEqual(message);
  });

  it("round-trips a script carrying a canary version and its share of traffic", () => {
    const canary = {
      name: "hello",
      version: 4,
      sha256: "cd".repeat(32),
      source: "export default {}",
      vars: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30000 },
      createdAtMs: 2,
      canary: undefined,
      mainModule: "",
      modules: [],
      kvBindings: {},
    };
    const message: ControlMessage = {
      msg: {
        $case: "push",
        value: {
          nonce: "n-2",
          configVersion: 43,
          full: false,
          upserts: [{ ...canary, version: 3, createdAtMs: 1, canary: { script: canary, percent: 10 } }],
          removals: [],
        },
      },
    };
    expect(ControlMessage.decode(ControlMessage.encode(message).finish())).toEqual(message);
  });
});

describe("release keys", () => {
  it("names a plain version by its number and a canary release by both versions and the percent", () => {
    expect(releaseKey({ version: 7, canary: undefined })).toBe("7");
    const canary = { script: { version: 8 } as never, percent: 10 };
    expect(releaseKey({ version: 7, canary })).toBe("7+8@10");
    expect(parseReleaseKey("7+8@10")).toEqual({ version: 7, canary: { version: 8, percent: 10 } });
    expect(parseReleaseKey("12")).toEqual({ version: 12, canary: null });
    expect(parseReleaseKey("x")).toBeNull();
    expect(parseReleaseKey("7+8")).toBeNull();
  });
});
