import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

/** Event, CustomEvent, ErrorEvent, EventTarget, AbortSignal, reportError, scheduler, navigator, performance. */
const LIMITS = { cpuMs: 1_000, memoryMb: 128, wallMs: 10_000 };
const runner = createIsolateRunner({ maxLimits: LIMITS });
afterAll(() => runner.dispose());

async function run(body: string) {
  return runSource(
    runner,
    `export default { async fetch() {
      const value = await (async () => { ${body} })();
      return Response.json(value === undefined ? null : value);
    } }`,
    {},
    { limits: LIMITS },
  );
}

async function evaluate(body: string): Promise<unknown> {
  return JSON.parse(bodyText(await run(body)));
}

describe("Event and EventTarget (DOM standard)", () => {
  it("dispatches to listeners with once, signal, handleEvent objects and preventDefault on cancelable events", async () => {
    const result = await evaluate(`
      const target = new EventTarget();
      const seen = [];
      const controller = new AbortController();
      target.addEventListener("ping", () => seen.push("once"), { once: true });
      target.addEventListener("ping", () => seen.push("signal"), { signal: controller.signal });
      target.addEventListener("ping", { handleEvent(e) { seen.push("object:" + (e.currentTarget === target)); e.preventDefault(); } });
      const first = target.dispatchEvent(new Event("ping", { cancelable: true }));
      controller.abort();
      const second = target.dispatchEvent(new Event("ping"));
      const event = new Event("ping");
      return { seen, first, second, after: [event.eventPhase, event.target, event.defaultPrevented] };
    `);
    expect(result).toEqual({
      seen: ["once", "signal", "object:true", "object:true"],
      first: false,
      second: true,
      after: [0, null, false],
    });
  });

  it("requires a type, names its interfaces and refuses to dispatch an event twice at once", async () => {
    const result = await evaluate(`
      const errors = [() => new Event(), () => new CustomEvent(), () => new Event("x", 1), () => new CustomEvent("x").initCustomEvent()].map((f) => {
        try { f(); return "accepted"; } catch (e) { return e.constructor.name; }
      });
      const target = new EventTarget();
      const event = new Event("a");
      let nested;
      target.addEventListener("a", () => { try { target.dispatchEvent(event); } catch (e) { nested = e.name + ":" + (e instanceof DOMException); } });
      target.dispatchEvent(event);
      return { errors, nested, tags: [new Event("a"), new CustomEvent("a"), new EventTarget(), new ErrorEvent("error")].map(String),
        inherit: [new CustomEvent("a") instanceof Event, AbortSignal.prototype instanceof EventTarget] };
    `);
    expect(result).toEqual({
      errors: ["TypeError", "TypeError", "TypeError", "TypeError"],
      nested: "InvalidStateError:true",
      tags: ["[object Event]", "[object CustomEvent]", "[object EventTarget]", "[object ErrorEvent]"],
      inherit: [true, true],
    });
  });

  it("gives CustomEvent its detail (null by default) and ErrorEvent its fields", async () => {
    const result = await evaluate(`
      const target = new EventTarget();
      let got;
      target.addEventListener("data", (e) => { got = e.detail; });
      target.dispatchEvent(new CustomEvent("data", { detail: { id: 7 } }));
      const init = new CustomEvent("x");
      init.initCustomEvent("y", true, false, 5);
      const error = new ErrorEvent("error", { message: "m", filename: "f.js", lineno: 3, colno: 4, error: 1 });
      return { got, none: new CustomEvent("x").detail, init: [init.type, init.bubbles, init.detail],
        error: [error.message, error.filename, error.lineno, error.colno, error.error] };
    `);
    expect(result).toEqual({
      got: { id: 7 },
      none: null,
      init: ["y", true, 5],
      error: ["m", "f.js", 3, 4, 1],
    });
  });

  it("reports a listener's exception as uncaught in the log and goes on to the next listener", async () => {
    const result = await run(`
      const target = new EventTarget();
      const seen = [];
      target.addEventListener("a", () => { throw new RangeError("listener broke"); });
      target.addEventListener("a", () => seen.push("second"));
      return { returned: target.dispatchEvent(new Event("a")), seen };
    `);
    expect(JSON.parse(bodyText(result))).toEqual({ returned: true, seen: ["second"] });
    expect(result.logs.map((line) => [line.level, line.message])).toEqual([
      ["error", "Uncaught RangeError: listener broke"],
    ]);
  });
});

describe("AbortSignal", () => {
  it("aborts on timeout with a TimeoutError, follows any() and throws its reason from throwIfAborted", async () => {
    const result = await evaluate(`
      const timed = AbortSignal.timeout(5);
      const before = timed.aborted;
      await new Promise((resolve) => timed.addEventListener("abort", resolve));
      const a = new AbortController();
      const b = new AbortController();
      const any = AbortSignal.any([a.signal, b.signal]);
      b.abort("b's reason");
      let thrown;
      try { any.throwIfAborted(); } catch (e) { thrown = e; }
      const pre = AbortSignal.any([AbortSignal.abort("early")]);
      let illegal;
      try { new AbortSignal(); } catch (e) { illegal = e.constructor.name; }
      return { before, timeout: [timed.aborted, timed.reason.name, timed.reason instanceof DOMException],
        any: [any.aborted, any.reason, thrown], pre: [pre.aborted, pre.reason], aborted: AbortSignal.abort().reason.name, illegal };
    `);
    expect(result).toEqual({
      before: false,
      timeout: [true, "TimeoutError", true],
      any: [true, "b's reason", "b's reason"],
      pre: [true, "early"],
      aborted: "AbortError",
      illegal: "TypeError",
    });
  });
});

describe("AbortSignal.any and abort events", () => {
  it("links composite signals to their sources and fires abort events source first, then dependents in order", async () => {
    const result = await evaluate(`
      const controller = new AbortController();
      const signals = [controller.signal];
      signals.push(AbortSignal.any([controller.signal]));
      signals.push(AbortSignal.any([controller.signal]));
      signals.push(AbortSignal.any([signals[0]]));
      signals.push(AbortSignal.any([signals[1]]));
      let order = "";
      signals.forEach((s, i) => s.addEventListener("abort", () => { order += i; }));
      let nested = AbortSignal.any([controller.signal]);
      for (let i = 0; i < 3; i++) nested = AbortSignal.any([nested]);
      const twice = AbortSignal.any([controller.signal, controller.signal]);
      controller.abort("why");
      const first = new AbortController(); first.abort("r1");
      const second = new AbortController(); second.abort("r2");
      return { order, nested: [nested.aborted, nested.reason], twice: twice.reason,
        firstReason: AbortSignal.any([new AbortController().signal, first.signal, second.signal]).reason,
        empty: AbortSignal.any([]).aborted };
    `);
    expect(result).toEqual({
      order: "01234",
      nested: [true, "why"],
      twice: "why",
      firstReason: "r1",
      empty: false,
    });
  });
});

describe("reportError, scheduler, queueMicrotask, navigator and performance", () => {
  it("reportError logs the error as an uncaught one and needs an argument", async () => {
    const result = await run(`
      reportError(new TypeError("reported"));
      reportError("a string");
      let missing;
      try { reportError(); } catch (e) { missing = e.constructor.name; }
      return missing;
    `);
    expect(JSON.parse(bodyText(result))).toBe("TypeError");
    expect(result.logs.map((line) => [line.level, line.message])).toEqual([
      ["error", "Uncaught TypeError: reported"],
      ["error", "Uncaught a string"],
    ]);
  });

  it("scheduler.wait resolves after the delay and rejects with the signal's reason when aborted", async () => {
    const result = await evaluate(`
      const order = [];
      const waited = scheduler.wait(10).then(() => order.push("waited"));
      setTimeout(() => order.push("timer"), 1);
      await waited;
      const controller = new AbortController();
      const aborted = scheduler.wait(10_000, { signal: controller.signal }).then(() => "resolved", (e) => "rejected:" + e);
      controller.abort("stop");
      const already = await scheduler.wait(1, { signal: AbortSignal.abort("gone") }).catch((e) => e);
      const badSignal = await scheduler.wait(1, { signal: {} }).catch((e) => e.constructor.name);
      return { order, aborted: await aborted, already, badSignal };
    `);
    expect(result).toEqual({
      order: ["timer", "waited"],
      aborted: "rejected:stop",
      already: "gone",
      badSignal: "TypeError",
    });
  });

  it("queueMicrotask throws TypeError for a non-callable and navigator reports Cloudflare-Workers", async () => {
    const result = await evaluate(`
      let thrown;
      try { queueMicrotask("code"); } catch (e) { thrown = e.constructor.name; }
      return { thrown, ua: navigator.userAgent, cores: navigator.hardwareConcurrency, tag: String(navigator) };
    `);
    expect(result).toEqual({
      thrown: "TypeError",
      ua: "Cloudflare-Workers",
      cores: 1,
      tag: "[object Navigator]",
    });
  });

  it("performance.now stands still while the script computes and moves on after I/O, as in Workers", async () => {
    const result = await evaluate(`
      const start = performance.now();
      let x = 0;
      const until = Date.now() + 15;
      while (Date.now() < until) x++;
      const afterWork = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { still: afterWork === start, moved: performance.now() > start, origin: typeof performance.timeOrigin };
    `);
    expect(result).toEqual({ still: true, moved: true, origin: "number" });
  });

  it("a missing Web API is a ReferenceError naming it", async () => {
    const result = await evaluate(`
      try { HTMLRewriter; return "defined"; } catch (e) { return e.constructor.name + ": " + e.message; }
    `);
    expect(result).toBe("ReferenceError: HTMLRewriter is not defined");
  });
});

describe("URLPattern", () => {
  it("matches paths with named groups and reports the groups, from the lazily loaded polyfill", async () => {
    const result = await evaluate(`
      const pattern = new URLPattern({ pathname: "/books/:id(\\\\d+)/:rest*" });
      const match = pattern.exec("https://example.com/books/42/a/b?x=1");
      const base = new URLPattern("/api/*", "https://example.com");
      let bad;
      try { new URLPattern({ pathname: "/(" }); } catch (e) { bad = e.constructor.name; }
      return { test: [pattern.test("https://example.com/books/42"), pattern.test("https://example.com/books/x")],
        groups: match.pathname.groups, base: [base.test("https://example.com/api/v1"), base.test("https://other.com/api/v1")], bad };
    `);
    expect(result).toEqual({
      test: [true, false],
      groups: { id: "42", rest: "a/b" },
      base: [true, false],
      bad: "TypeError",
    });
  });
});
