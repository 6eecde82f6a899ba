import { describe, expect, it } from "vitest";
import { ControlMessage, NodeMessage } from "../src/index.js";

describe("edge.v1 codec", () => {
  it("round-trips a push carrying scripts, vars and limits through the wire format", () => {
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
        },
      },
    };
    expect(NodeMessage.decode(NodeMessage.encode(message).finish())).toEqual(message);
  });
});
