import { describe, expect, it } from "vitest";
import {
  type ConfigPush,
  ControlMessage,
  encodeUpserts,
  preEncodedPush,
  type Script,
  serializeControlMessage,
} from "../src/index.js";

function script(name: string, version: number, canary?: Script): Script {
  return {
    name,
    version,
    sha256: "ab".repeat(32),
    source: `export default { fetch: () => new Response("${name} ${version} ✓") }`,
    vars: { GREETING: "héllo", EMPTY: "" },
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
    createdAtMs: 1_700_000_000_000,
    canary: canary ? { script: canary, percent: 25 } : undefined,
    mainModule: "",
    modules: [],
    kvBindings: {},
  } as Script;
}

describe("pushes with their upserts encoded once", () => {
  it("decode exactly as the same push encoded whole, with and without upserts and removals", () => {
    const cases: ConfigPush[] = [
      {
        nonce: "n-1",
        configVersion: 2 ** 40,
        full: false,
        upserts: [script("a", 1), script("b", 7, script("b", 8))],
        removals: ["gone", "old"],
      },
      { nonce: "n-2", configVersion: 3, full: false, upserts: [script("only", 1)], removals: [] },
      { nonce: "n-3", configVersion: 4, full: false, upserts: [], removals: ["x"] },
      { nonce: "", configVersion: 0, full: true, upserts: [], removals: [] },
      {
        nonce: "ñ".repeat(200),
        configVersion: 2 ** 53 - 1,
        full: true,
        upserts: [script("long", 127)],
        removals: Array.from({ length: 130 }, (_, i) => `r-${i}-${"x".repeat(i)}`),
      },
    ];
    for (const push of cases) {
      const whole = ControlMessage.decode(
        ControlMessage.encode({ msg: { $case: "push", value: push } }).finish(),
      );
      const shared = ControlMessage.decode(
        serializeControlMessage(preEncodedPush(push, encodeUpserts(push.upserts))),
      );
      expect(shared).toEqual(whole);
      expect(shared.msg?.$case === "push" && shared.msg.value.configVersion).toBe(push.configVersion);
    }
  });

  it("leaves every other message, and a push built the usual way, to the generated encoder", () => {
    const welcome: ControlMessage = {
      msg: { $case: "welcome", value: { controlPlaneId: "cp", heartbeatIntervalMs: 5 } },
    };
    expect(serializeControlMessage(welcome)).toEqual(Buffer.from(ControlMessage.encode(welcome).finish()));
    const push: ControlMessage = {
      msg: {
        $case: "push",
        value: { nonce: "n", configVersion: 1, full: false, upserts: [script("a", 1)], removals: [] },
      },
    };
    expect(serializeControlMessage(push)).toEqual(Buffer.from(ControlMessage.encode(push).finish()));
  });
});
