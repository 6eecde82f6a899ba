import ivm from "isolated-vm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeCode } from "./runtime-code.js";

describe("RuntimeCode lazy parts", () => {
  let runtime: RuntimeCode;
  beforeAll(async () => {
    runtime = await RuntimeCode.create(pino({ level: "silent" }));
  });
  afterAll(() => runtime.release());

  it("loads a part into the isolate once, on first touch, and reports how long that took", async () => {
    const isolate = runtime.newIsolate({ memoryLimit: 64 });
    try {
      const context = await isolate.createContext();
      await runtime.install(isolate, context);
      const loads: number[] = [];
      const noop = new ivm.Callback(() => true);
      const init = context.global.getSync("__edgeInit", { reference: true }) as ivm.Reference;
      init.applySync(undefined, [noop, noop, noop, runtime.loader(isolate, context, (ms) => loads.push(ms))]);
      expect(loads).toEqual([]);
      expect(context.evalSync(`new TextDecoder("latin1").decode(new Uint8Array([0x80]))`)).toBe("\u20ac");
      expect(context.evalSync(`new TextDecoder("koi8-r").decode(new Uint8Array([0xc1]))`)).toBe("\u0430");
      expect(loads).toHaveLength(1);
      expect(loads[0]).toBeGreaterThan(0);
      expect(context.evalSync(`typeof new ReadableStream().getReader`)).toBe("function");
      expect(loads).toHaveLength(2);
    } finally {
      isolate.dispose();
    }
  });

  it("refuses a part it does not know", async () => {
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    try {
      const context = await isolate.createContext();
      await context.global.set("__load", runtime.loader(isolate, context));
      expect(() => context.evalSync(`__load("../../etc/passwd")`)).toThrow(/No runtime part named/);
    } finally {
      isolate.dispose();
    }
  });
});
