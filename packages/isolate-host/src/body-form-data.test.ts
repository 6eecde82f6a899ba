import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, workerScript } from "../test/helpers.js";
import { ROOMY_LIMITS, scriptValue, THROWN } from "../test/script-value.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: ROOMY_LIMITS });
afterAll(() => runner.dispose());
const value = (body: string) => scriptValue(runner, body);

/** A FormData's entries as JSON-able data: files as [name, type, size]. */
const ENTRIES = `const entries = (fd) => [...fd].map(([k, v]) => [k, typeof v === "string" ? v : [v.name, v.type, v.size]]);`;

describe("FormData (XHR standard)", () => {
  it("keeps entries in insertion order with get/getAll/has/delete/set as the standard says", async () => {
    expect(
      await value(`${ENTRIES} const fd = new FormData();
        fd.append("a", "1"); fd.append("b", "2"); fd.append("a", "3"); fd.append("c", "4");
        const before = [fd.get("a"), fd.getAll("a"), fd.has("b"), fd.get("zz"), fd.getAll("zz")];
        fd.set("a", "5"); fd.delete("b");
        return [before, entries(fd), [...fd.keys()], [...fd.values()]];`),
    ).toEqual([
      ["1", ["1", "3"], true, null, []],
      [
        ["a", "5"],
        ["c", "4"],
      ],
      ["a", "c"],
      ["5", "4"],
    ]);
  });

  it("turns a Blob into a File named 'blob' (or the given filename) and keeps a File's lastModified", async () => {
    expect(
      await value(`const fd = new FormData();
        fd.append("b", new Blob(["xy"], { type: "text/x" }));
        fd.append("n", new Blob([]), "custom name");
        fd.set("f", new File([], "name", { lastModified: 123 }), "renamed");
        const b = fd.get("b"), n = fd.get("n"), f = fd.get("f");
        return [b.constructor.name, b.name, b.type, b.size, n.name, f.name, f.lastModified, fd.get("b") === fd.get("b")];`),
    ).toEqual(["File", "blob", "text/x", 2, "custom name", "renamed", 123, true]);
  });

  it("converts names and values to USVStrings and refuses a filename with a string value", async () => {
    expect(
      await value(`${THROWN} const fd = new FormData(); fd.append("a\\uD800", 1); fd.append(null, {});
        return [[...fd], await thrown(() => fd.append("x", "y", "z")), await thrown(() => fd.append("x")),
          await thrown(() => new FormData({})), FormData.length, FormData.prototype.append.length];`),
    ).toEqual([
      [
        ["a\uFFFD", "1"],
        ["null", "[object Object]"],
      ],
      "TypeError",
      "TypeError",
      "TypeError",
      0,
      2,
    ]);
  });

  it("iterates live: entries deleted or appended while iterating are skipped or reached", async () => {
    expect(
      await value(`const make = () => { const fd = new FormData(); for (const [k, v] of [["foo", "0"], ["baz", "1"], ["BAR", "2"], ["quux", "3"]]) fd.append(k, v); return fd; };
        const skipped = [], added = []; let fd = make();
        for (const [name] of fd) { skipped.push(name); if (name === "baz") fd.delete("foo"); }
        fd = make();
        for (const [name] of fd) { added.push(name); if (name === "baz") fd.append("X-yZ", "4"); }
        const seen = []; make().forEach((v, k, parent) => seen.push(k + "=" + v + (parent instanceof FormData)));
        const it = make().entries(); const proto = Object.getPrototypeOf(it);
        const shape = [Object.prototype.toString.call(it), Object.getOwnPropertyDescriptor(proto, "next").enumerable,
          FormData.prototype[Symbol.iterator] === FormData.prototype.entries];
        return [skipped, added, seen, shape];`),
    ).toEqual([
      ["foo", "baz", "quux"],
      ["foo", "baz", "BAR", "quux", "X-yZ"],
      ["foo=0true", "baz=1true", "BAR=2true", "quux=3true"],
      ["[object FormData Iterator]", true, true],
    ]);
  });
});

describe("Blob and FormData in top-level code", () => {
  it("work when the module is evaluated ahead of a request (the body family loads without the host)", async () => {
    const source = `const form = new FormData(); form.append("a", "1");
      const blob = new Blob(["top", "level"], { type: "text/plain" });
      export default { async fetch() { return new Response(form.get("a") + (await blob.text())); } };`;
    const prepared = await runner.prepare(workerScript(source, { limits: ROOMY_LIMITS }));
    for (let i = 0; i < 3; i++) expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("1toplevel");
  });
});
