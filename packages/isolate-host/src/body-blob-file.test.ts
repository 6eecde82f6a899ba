import { afterAll, describe, expect, it } from "vitest";
import { ROOMY_LIMITS, scriptValue, THROWN } from "../test/script-value.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: ROOMY_LIMITS });
afterAll(() => runner.dispose());
const value = (body: string) => scriptValue(runner, body);

describe("Blob (W3C File API)", () => {
  it("new Blob(['ab', 'cd']).text() joins the parts", async () => {
    expect(await value(`return await new Blob(["ab", "cd"]).text();`)).toBe("abcd");
  });

  it("is an interface object of length 0 that needs new and stringifies as [object Blob]", async () => {
    expect(
      await value(`${THROWN} return [Blob.name, Blob.length, String(new Blob()), new Blob().size, new Blob().type,
        await thrown(() => Blob())];`),
    ).toEqual(["Blob", 0, "[object Blob]", 0, "", "TypeError"]);
  });

  it("takes strings, ArrayBuffers, every kind of view and Blobs as parts, in order", async () => {
    const bytes = await value(`const view = new Uint8Array([0, 4, 255]);
      const blob = new Blob([view.buffer, "é", new Uint16Array([0x4241]), new DataView(view.buffer, 1, 1), new Blob(["z"])]);
      return [...new Uint8Array(await blob.arrayBuffer())];`);
    expect(bytes).toEqual([0, 4, 255, 0xc3, 0xa9, 0x41, 0x42, 4, 0x7a]);
  });

  it("treats any object with @@iterator as the parts sequence and refuses other values with TypeError", async () => {
    expect(
      await value(`${THROWN}
        const custom = { [Symbol.iterator]() { let i = 0; return { next: () => [{ done: false, value: "ab" }, { done: false, value: "cde" }, { done: true }][i++] }; } };
        return [new Blob(custom).size, new Blob(new String("xyz")).size, await new Blob(new Uint8Array([1, 2, 3])).text(),
          ...(await Promise.all([null, true, 0, "FAIL", new Date(), {}, { 0: "a", length: 1 }].map((arg) => thrown(() => new Blob(arg)))))];`),
    ).toEqual([5, 3, "123", ...Array(7).fill("TypeError")]);
  });

  it("stringifies other parts with ToString and propagates what toString throws", async () => {
    expect(
      await value(`${THROWN} const b = new Blob([null, undefined, 1, ["x", "y"], {}, { toString() { return "s"; } }]);
        return [await b.text(), await thrown(() => new Blob([{ toString() { throw new RangeError("no"); } }])),
          await thrown(() => new Blob([Symbol("s")]))];`),
    ).toEqual(["nullundefined1x,y[object Object]s", "RangeError", "TypeError"]);
  });

  it("reads options in lexicographic order after the parts, and refuses non-object options and bad endings", async () => {
    expect(
      await value(`${THROWN} const order = [];
        new Blob([{ toString() { order.push("part"); return ""; } }], { get type() { order.push("type"); return ""; }, get endings() { order.push("endings"); return undefined; } });
        return [order, await thrown(() => new Blob([], 123)), await thrown(() => new Blob([], "abc")),
          await thrown(() => new Blob([], { endings: "invalid" })), new Blob([], null).size, new Blob([], () => {}).size];`),
    ).toEqual([["part", "endings", "type"], "TypeError", "TypeError", "TypeError", 0, 0]);
  });

  it("converts line endings only with endings: 'native'", async () => {
    expect(
      await value(`return [await new Blob(["a\\r\\nb\\rc\\n"], { endings: "native" }).text(),
        await new Blob(["a\\r\\nb"], { endings: "transparent" }).text()];`),
    ).toEqual(["a\nb\nc\n", "a\r\nb"]);
  });

  it("lower-cases the type and empties one with characters outside U+0020-U+007E", async () => {
    expect(
      await value(
        `return ["TEXT/HTML", "a", " image/gif ", "\\u00e5", "image/gif\\u0000", "\\timage/gif"].map((type) => new Blob([], { type }).type);`,
      ),
    ).toEqual(["text/html", "a", " image/gif ", "", "", ""]);
  });

  it("slices with negative and out-of-range indices and a content type", async () => {
    expect(
      await value(`const b = new Blob(["hello world"]);
        return [await b.slice(-5).text(), await b.slice(0, -6).text(), await b.slice(3, 1).text(), await b.slice(-100, 100).text(),
          await b.slice(2.5, 4.5).text(), b.slice(0, 1, "Text/Plain").type, b.slice(0, 1, "\\u00ff").type, b.slice(6).size];`),
    ).toEqual(["world", "hello", "", "hello world", "ll", "text/plain", "", 5]);
  });

  it("slice() lower-cases a valid content type whole and empties one with characters outside U+0020-U+007E", async () => {
    expect(
      await value(`const b = new Blob(["PASS"]);
        return [["te(xt/plain", "TEXT/PLAIN", "text/plain;charset = UTF-8", "text/plain;charset=UTF-8", "te\\"xt/plain"].map((t) => b.slice(0, 4, t).type),
          ["\xFF", "te\x09xt/plain", "te\x00xt/plain", "te\x7Fxt/plain"].map((t) => b.slice(0, 4, t).type),
          new Blob().slice(0, 0, null).type, new Blob().slice(0, 0, undefined).type];`),
    ).toEqual([
      ["te(xt/plain", "text/plain", "text/plain;charset = utf-8", "text/plain;charset=utf-8", 'te"xt/plain'],
      ["", "", "", ""],
      "null",
      "",
    ]);
  });

  it("slices across parts of different kinds", async () => {
    expect(
      await value(`const blob1 = new Blob(["squiggle"]); const ab = new Int8Array(16).map((_, i) => i + 65);
        const b = new Blob([new Uint8Array(ab.buffer, 3, 5), blob1, "foo"]);
        return [await b.slice(0, 8).text(), await b.slice(8, 18).text(), await b.slice(4, 12).text(),
          await new Blob([3, ab, "foo"]).slice(17, 21).text()];`),
    ).toEqual(["DEFGHsqu", "igglefoo", "Hsquiggl", "foo"]);
  });

  it("hands out copies: writing to arrayBuffer() or bytes() results does not change the blob", async () => {
    expect(
      await value(`const b = new Blob(["abc"]); new Uint8Array(await b.arrayBuffer())[0] = 0x7a; (await b.bytes())[1] = 0x7a;
        const r = new Response(b); const chunk = (await r.body.getReader().read()).value; chunk[2] = 0x7a;
        return [await b.text(), (await b.bytes()) instanceof Uint8Array];`),
    ).toEqual(["abc", true]);
  });

  it("stream() gives the bytes to a default reader and to a BYOB reader", async () => {
    expect(
      await value(`const b = new Blob(["stream me"]);
        const reader = b.stream().getReader(); let text = "";
        for (;;) { const { done, value } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
        const byob = b.stream().getReader({ mode: "byob" });
        const { value } = await byob.read(new Uint8Array(6));
        return [text, new TextDecoder().decode(value)];`),
    ).toEqual(["stream me", "stream"]);
  });
});

describe("File (W3C File API)", () => {
  it("keeps the case of type parameters, as WPT's File constructor tests expect", async () => {
    expect(
      await value(`return ["text/plain;charset=UTF-8", "TEXT/PLAIN", "nonparsable", "ascii/nonprintable\u001F", "nonascii\u00EE"]
        .map((type) => new File(["bits"], "dummy", { type }).type);`),
    ).toEqual(["text/plain;charset=UTF-8", "text/plain", "nonparsable", "", ""]);
  });

  it("has a name, a lastModified and a type, and is a Blob", async () => {
    expect(
      await value(`const f = new File(["bits"], "a/b.txt", { type: "TEXT/PLAIN", lastModified: 42 });
        return [f.name, f.lastModified, f.type, f.size, String(f), f instanceof Blob, File.length, f.constructor.name];`),
    ).toEqual(["a/b.txt", 42, "text/plain", 4, "[object File]", true, 2, "File"]);
  });

  it("needs both the bits and the name, and defaults lastModified to now", async () => {
    expect(
      await value(`${THROWN} const before = Date.now(); const f = new File([], null);
        return [await thrown(() => new File()), await thrown(() => new File([])), await thrown(() => new File("bits", "x")),
          f.name, f.lastModified >= before && f.lastModified <= Date.now() + 1, await thrown(() => new File([], "x", 5))];`),
    ).toEqual(["TypeError", "TypeError", "TypeError", "null", true, "TypeError"]);
  });
});
