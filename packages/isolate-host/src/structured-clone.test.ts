import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

/** structuredClone (HTML standard's structured serialization), in a fresh isolate. */
const LIMITS = { cpuMs: 1_000, memoryMb: 128, wallMs: 10_000 };
const runner = createIsolateRunner({ maxLimits: LIMITS });
afterAll(() => runner.dispose());

async function evaluate(body: string): Promise<unknown> {
  const result = await runSource(
    runner,
    `export default { async fetch() {
      const value = await (async () => { ${body} })();
      return Response.json(value === undefined ? null : value);
    } }`,
    {},
    { limits: LIMITS },
  );
  return JSON.parse(bodyText(result));
}

describe("structuredClone", () => {
  it("copies primitives' wrappers, Date, RegExp, Map, Set, buffers and views, keeping shared references and cycles", async () => {
    const result = await evaluate(`
      const buffer = new ArrayBuffer(8);
      const source = { n: new Number(3), s: new String("s"), b: new Boolean(false), big: Object(10n), date: new Date(5),
        re: /a+/gi, map: new Map([[{ k: 1 }, new Set([1, 2])]]), u16: new Uint16Array(buffer, 2, 2), dv: new DataView(buffer),
        neg: -0, arr: Object.assign([1, , 3], { extra: "x" }) };
      source.self = source;
      const c = structuredClone(source);
      return {
        wrappers: [c.n instanceof Number && +c.n, c.s instanceof String && String(c.s), c.b instanceof Boolean && c.b.valueOf(), typeof c.big, c.big.valueOf() === 10n],
        date: [c.date instanceof Date, c.date !== source.date, c.date.getTime()],
        re: [c.re.source, c.re.flags, c.re !== source.re],
        map: [[...c.map.keys()][0].k, [...[...c.map.values()][0]]],
        views: [c.u16 instanceof Uint16Array, c.u16.byteOffset, c.u16.length, c.u16.buffer === c.dv.buffer, c.dv.buffer !== buffer],
        neg: Object.is(c.neg, -0),
        arr: [c.arr.length, 1 in c.arr, c.arr.extra],
        cycle: c.self === c,
      };
    `);
    expect(result).toEqual({
      wrappers: [3, "s", false, "object", true],
      date: [true, true, 5],
      re: ["a+", "gi", true],
      map: [1, [1, 2]],
      views: [true, 2, 2, true, true],
      neg: true,
      arr: [3, false, "x"],
      cycle: true,
    });
  });

  it("keeps Error types, messages and causes, and copies class instances as plain objects reading each getter once", async () => {
    const result = await evaluate(`
      const error = structuredClone(new RangeError("out", { cause: new Error("inner") }));
      const renamed = new Error("m"); renamed.name = "SyntaxError";
      const unknown = new Error("m"); unknown.name = "CustomError";
      let reads = 0;
      class Point { x = 1; get y() { reads++; return 2; } }
      const tagged = structuredClone({ [Symbol.toStringTag]: "Custom", v: 1 });
      const source = { get g() { reads++; return "g"; } };
      const copy = structuredClone(source);
      const point = structuredClone(new Point());
      return { error: [error instanceof RangeError, error.message, error.cause.message],
        renamed: structuredClone(renamed) instanceof SyntaxError, unknown: structuredClone(unknown).name,
        copy: [copy.g, Object.getOwnPropertyDescriptor(copy, "g").get === undefined], point: [point.constructor === Object, point.x, "y" in point], reads, tagged: tagged.v };
    `);
    expect(result).toEqual({
      error: [true, "out", "inner"],
      renamed: true,
      unknown: "Error",
      copy: ["g", true],
      point: [true, 1, false],
      reads: 1,
      tagged: 1,
    });
  });

  it("throws DataCloneError for functions, symbols, promises, weak collections and platform objects", async () => {
    const result = await evaluate(`
      const values = [() => 1, Symbol("s"), { f() {} }, Promise.resolve(), new WeakMap(), Object(Symbol()), new Headers(), new Event("x"),
        new Request("https://a.example/")];
      return values.map((v) => {
        try { structuredClone(v); return "cloned"; } catch (e) { return e.name + ":" + (e instanceof DOMException) + ":" + e.code; }
      });
    `);
    expect(result).toEqual(Array(9).fill("DataCloneError:true:25"));
  });

  it("transfers ArrayBuffers (the originals detach) and refuses bad transfer lists", async () => {
    const result = await evaluate(`
      const buffer = new Uint8Array([1, 2, 3]).buffer;
      const copy = structuredClone({ view: new Uint8Array(buffer) }, { transfer: [buffer] });
      const errors = [() => structuredClone(1, { transfer: [buffer] }), () => { const b = new ArrayBuffer(1); structuredClone(b, { transfer: [b, b] }); },
        () => structuredClone(1, { transfer: [{}] }), () => structuredClone(1, { transfer: 5 }), () => structuredClone()].map((f) => {
        try { f(); return "accepted"; } catch (e) { return e.name; }
      });
      return { original: buffer.byteLength, copied: [...copy.view], errors };
    `);
    expect(result).toEqual({
      original: 0,
      copied: [1, 2, 3],
      errors: ["DataCloneError", "DataCloneError", "DataCloneError", "TypeError", "TypeError"],
    });
  });
});
