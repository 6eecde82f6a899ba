import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { versionDigest } from "../src/index.js";

describe("versionDigest", () => {
  const source = "export default {}";
  const wasm = { name: "a.wasm", type: "wasm", content: new Uint8Array([0, 97, 115, 109]) };

  it("is the sha256 of the source for a single-module version, as before modules existed", () => {
    expect(versionDigest(source)).toBe(createHash("sha256").update(source).digest("hex"));
  });

  it("covers the main module's name and every module's name, type and bytes", () => {
    const base = versionDigest(source, "index.js", [wasm]);
    expect(base).not.toBe(versionDigest(source));
    expect(versionDigest(source, "main.js", [wasm])).not.toBe(base);
    expect(versionDigest(source, "index.js", [{ ...wasm, name: "b.wasm" }])).not.toBe(base);
    expect(versionDigest(source, "index.js", [{ ...wasm, type: "data" }])).not.toBe(base);
    expect(
      versionDigest(source, "index.js", [{ ...wasm, content: new Uint8Array([0, 97, 115, 110]) }]),
    ).not.toBe(base);
    expect(versionDigest(source, "index.js", [wasm])).toBe(base);
  });

  it("cannot be matched by moving bytes between fields (each is length-prefixed)", () => {
    const a = versionDigest("ab", "x", [{ name: "c", type: "text", content: new Uint8Array([100]) }]);
    const b = versionDigest("a", "x", [{ name: "bc", type: "text", content: new Uint8Array([100]) }]);
    expect(a).not.toBe(b);
  });
});
