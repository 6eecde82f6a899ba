import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner();
afterAll(() => runner.dispose());

async function json(source: string): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(runner, source)));
}

/** Runs `body` (the inside of an async fetch handler that returns a value) and gives back that value. */
async function evaluate(body: string): Promise<unknown> {
  return json(`export default { async fetch(request, env, ctx) {
    const value = await (async () => { ${body} })();
    return Response.json(value === undefined ? null : value);
  } }`);
}

describe("atob, btoa and structuredClone", () => {
  it("btoa and atob round-trip Latin-1 and refuse what the HTML standard refuses", async () => {
    const result = await evaluate(`
      const errors = [];
      for (const f of [() => btoa("€"), () => atob("a"), () => atob("ab=c"), () => atob("*")]) {
        try { f(); errors.push("accepted"); } catch (e) { errors.push(e.name + ":" + (e instanceof DOMException) + ":" + e.code); }
      }
      return { b: btoa("hello\\u00ff"), a: atob(" aGVs bG8= "), unpadded: atob("YQ"), errors };
    `);
    expect(result).toEqual({
      b: Buffer.from("hello\u00ff", "latin1").toString("base64"),
      a: "hello",
      unpadded: "a",
      errors: Array(4).fill("InvalidCharacterError:true:5"),
    });
  });

  it("structuredClone copies nested values, cycles and binary data, and refuses functions with DataCloneError", async () => {
    const result = await evaluate(`
      const source = { date: new Date(0), map: new Map([["k", new Set([1])]]), bytes: new Uint8Array([1, 2]), big: 10n };
      source.self = source;
      const copy = structuredClone(source);
      let refused = "accepted";
      try { structuredClone({ f() {} }); } catch (e) { refused = e.name; }
      return {
        distinct: copy !== source && copy.self === copy,
        date: copy.date instanceof Date && copy.date.getTime(),
        set: [...copy.map.get("k")],
        bytes: [...copy.bytes], bytesType: copy.bytes.constructor.name,
        big: typeof copy.big, refused,
      };
    `);
    expect(result).toEqual({
      distinct: true,
      date: 0,
      set: [1],
      bytes: [1, 2],
      bytesType: "Uint8Array",
      big: "bigint",
      refused: "DataCloneError",
    });
  });
});

describe("Event, EventTarget, AbortController and DOMException", () => {
  it("dispatches events to listeners, honours once and stopImmediatePropagation", async () => {
    const result = await evaluate(`
      const target = new EventTarget();
      const seen = [];
      target.addEventListener("ping", (e) => seen.push("a:" + e.type), { once: true });
      target.addEventListener("ping", (e) => { seen.push("b"); e.stopImmediatePropagation(); });
      target.addEventListener("ping", () => seen.push("never"));
      target.dispatchEvent(new Event("ping"));
      target.dispatchEvent(new Event("ping"));
      return { seen, isEvent: new Event("x") instanceof Event };
    `);
    expect(result).toEqual({ seen: ["a:ping", "b", "b"], isEvent: true });
  });

  it("aborts signals with a reason, fires abort once, and supports AbortSignal.abort/any/timeout", async () => {
    const result = await evaluate(`
      const controller = new AbortController();
      const events = [];
      controller.signal.addEventListener("abort", () => events.push("listener"));
      controller.signal.onabort = () => events.push("onabort");
      controller.abort("why");
      controller.abort("again");
      let thrown;
      try { controller.signal.throwIfAborted(); } catch (e) { thrown = e; }
      const defaultReason = AbortSignal.abort().reason;
      const other = new AbortController();
      const any = AbortSignal.any([other.signal, new AbortController().signal]);
      other.abort("from other");
      const timeout = AbortSignal.timeout(10);
      await new Promise((resolve) => timeout.addEventListener("abort", resolve));
      let illegal = "constructed";
      try { new AbortSignal(); } catch (e) { illegal = e.constructor.name; }
      return { aborted: controller.signal.aborted, reason: controller.signal.reason, events, thrown,
        defaultReason: [defaultReason.name, defaultReason instanceof DOMException],
        any: [any.aborted, any.reason], timeout: timeout.reason.name, illegal };
    `);
    expect(result).toEqual({
      aborted: true,
      reason: "why",
      events: ["listener", "onabort"],
      thrown: "why",
      defaultReason: ["AbortError", true],
      any: [true, "from other"],
      timeout: "TimeoutError",
      illegal: "TypeError",
    });
  });

  it("DOMException has a name, message, legacy code and is an Error", async () => {
    const result = await evaluate(`
      const e = new DOMException("nope", "NotFoundError");
      return [e.name, e.message, e.code, e instanceof Error, DOMException.NOT_FOUND_ERR, new DOMException().name,
        Object.prototype.toString.call(e)];
    `);
    expect(result).toEqual(["NotFoundError", "nope", 8, true, 8, "Error", "[object DOMException]"]);
  });
});

describe("timers, microtasks, performance and navigator", () => {
  it("runs timers in delay order, with arguments, and never runs cleared ones", async () => {
    const result = await evaluate(`
      const order = [];
      await new Promise((resolve) => {
        setTimeout((x) => order.push("late:" + x), 30, "arg");
        const cleared = setTimeout(() => order.push("cleared"), 5);
        clearTimeout(cleared);
        setTimeout(() => order.push("early"), 1);
        let ticks = 0;
        const interval = setInterval(() => { order.push("tick"); if (++ticks === 2) clearInterval(interval); }, 5);
        setTimeout(resolve, 60);
      });
      return order;
    `);
    expect(result).toEqual(["early", "tick", "tick", "late:arg"]);
  });

  it("queueMicrotask runs before timers, and an exception in it becomes an error log line", async () => {
    const run = await runSource(
      runner,
      `export default { async fetch() {
        const order = [];
        setTimeout(() => order.push("timer"), 0);
        queueMicrotask(() => order.push("microtask"));
        queueMicrotask(() => { throw new Error("in microtask"); });
        await new Promise((resolve) => setTimeout(resolve, 5));
        return Response.json(order);
      } }`,
    );
    expect(JSON.parse(bodyText(run))).toEqual(["microtask", "timer"]);
    expect(run.logs.map((line) => [line.level, line.message])).toEqual([
      ["error", "Uncaught (in queueMicrotask) Error: in microtask"],
    ]);
  });

  it("performance.now advances across a timer and navigator.userAgent is set", async () => {
    const result = await evaluate(`
      const before = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { advanced: performance.now() - before >= 15, ua: navigator.userAgent, self: self === globalThis };
    `);
    expect(result).toEqual({ advanced: true, ua: "Cloudflare-Workers", self: true });
  });
});
