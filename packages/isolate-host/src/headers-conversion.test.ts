import { afterAll, describe, expect, it } from "vitest";
import { ROOMY_LIMITS, scriptValue, THROWN } from "../test/script-value.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: ROOMY_LIMITS });
afterAll(() => runner.dispose());
const value = (body: string, request = {}) => scriptValue(runner, body, request);

describe("Headers init conversion (WebIDL record and sequence)", () => {
  it("reads a record through a proxy as WebIDL does: @@iterator, ownKeys, then each key's descriptor and value", async () => {
    expect(
      await value(`const log = [];
        const target = { a: "b", c: "d" };
        Object.defineProperty(target, "hidden", { value: "x", enumerable: false });
        const proxy = new Proxy(target, {
          get(t, k, r) { log.push(["get", String(k)]); return Reflect.get(t, k, r); },
          ownKeys(t) { log.push(["ownKeys"]); return Reflect.ownKeys(t); },
          getOwnPropertyDescriptor(t, k) { log.push(["gopd", String(k)]); return Reflect.getOwnPropertyDescriptor(t, k); },
        });
        const headers = new Headers(proxy);
        return [log, [...headers]];`),
    ).toEqual([
      [
        ["get", "Symbol(Symbol.iterator)"],
        ["ownKeys"],
        ["gopd", "a"],
        ["get", "a"],
        ["gopd", "c"],
        ["get", "c"],
        ["gopd", "hidden"],
      ],
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ]);
  });

  it("takes getters' values and refuses symbol keys with TypeError", async () => {
    expect(
      await value(`${THROWN} const record = { get x() { return "from getter"; } };
        return [new Headers(record).get("x"), await thrown(() => new Headers({ [Symbol("s")]: "v" }))];`),
    ).toEqual(["from getter", "TypeError"]);
  });

  it("takes any iterable of iterables as pairs and refuses pairs whose length is not 2", async () => {
    expect(
      await value(`${THROWN} function* pairs() { yield new Set(["a", "1"]); yield (function* () { yield "b"; yield "2"; })(); }
        return [[...new Headers(pairs())], [...new Headers(new Map([["m", "v"]]))], await thrown(() => new Headers([["a"]])),
          await thrown(() => new Headers([["a", "1", "2"]])), await thrown(() => new Headers(["ab"])), await thrown(() => new Headers([1])),
          await thrown(() => new Headers(null)), await thrown(() => new Headers(1)), [...new Headers(undefined)].length];`),
    ).toEqual([
      [
        ["a", "1"],
        ["b", "2"],
      ],
      [["m", "v"]],
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      0,
    ]);
  });

  it("strips leading and trailing HTTP whitespace and refuses invalid names and values with TypeError", async () => {
    expect(
      await value(`${THROWN} const h = new Headers({ a: " \\t v a l \\r\\n" });
        return [h.get("a"), await thrown(() => new Headers({ "a b": "1" })), await thrown(() => new Headers({ "": "1" })),
          await thrown(() => new Headers({ a: "x\\ny" })), await thrown(() => new Headers({ a: "x\\0" })),
          await thrown(() => new Headers({ a: "\\u0100" })), await thrown(() => h.append("é", "1")), new Headers({ a: "\\u00ff" }).get("a")];`),
    ).toEqual([
      "v a l",
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      "TypeError",
      "\u00ff",
    ]);
  });
});

describe("Headers iteration", () => {
  it("sorts names, combines values, and never combines set-cookie", async () => {
    expect(
      await value(`const h = new Headers([["Set-Cookie", "a=1"], ["x-b", "1"], ["set-cookie", "b=2"], ["X-B", "2"], ["a", "0"]]);
        return [[...h], h.getSetCookie(), h.get("set-cookie"), [...h.keys()], Headers.length, Headers.name];`),
    ).toEqual([
      [
        ["a", "0"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
        ["x-b", "1, 2"],
      ],
      ["a=1", "b=2"],
      "a=1, b=2",
      ["a", "set-cookie", "set-cookie", "x-b"],
      0,
      "Headers",
    ]);
  });

  it("is live: headers deleted or added during iteration are skipped or reached", async () => {
    expect(
      await value(`const h = new Headers([["a", "1"], ["b", "2"], ["c", "3"]]);
        const seen = []; for (const [name] of h) { seen.push(name); if (name === "a") { h.delete("b"); h.append("d", "4"); } }
        const each = []; h.forEach((v, k, self) => each.push(k + v + (self === h)));
        return [seen, each];`),
    ).toEqual([
      ["a", "c", "d"],
      ["a1true", "c3true", "d4true"],
    ]);
  });

  it("iterators inherit from %IteratorPrototype% with an own enumerable next, and @@iterator is entries", async () => {
    expect(
      await value(`const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
        const it = new Headers({ b: "2", a: "1" }).keys(); const proto = Object.getPrototypeOf(it);
        const next = Object.getOwnPropertyDescriptor(proto, "next");
        return [Object.getPrototypeOf(proto) === iteratorPrototype, next.enumerable && next.writable && next.configurable,
          Object.prototype.toString.call(it), it.next(), it.next(), it.next(), it.next().done,
          Headers.prototype[Symbol.iterator] === Headers.prototype.entries];`),
    ).toEqual([
      true,
      true,
      "[object Headers Iterator]",
      { value: "a", done: false },
      { value: "b", done: false },
      { done: true },
      true,
      true,
    ]);
  });

  it("a Headers with its own @@iterator is read through it", async () => {
    expect(
      await value(`const h = new Headers({ a: "1" }); h[Symbol.iterator] = function* () { yield ["test", "test"]; };
        return [...new Headers(h)];`),
    ).toEqual([["test", "test"]]);
  });

  it("the incoming request's headers are immutable", async () => {
    expect(
      await value(
        `${THROWN} return [await thrown(() => request.headers.set("a", "b")), request.headers.get("x-in")];`,
        {
          headers: [["x-in", "1"]],
        },
      ),
    ).toEqual(["TypeError", "1"]);
  });
});
