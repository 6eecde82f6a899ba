import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, TEST_LIMITS, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

// Same runner settings but for where the runtime comes from: a V8 startup snapshot, or the
// runtime's code cache run in each fresh isolate. Built on demand (warmIsolates 0) and ahead.
const fromSnapshot = createIsolateRunner({ warmIsolates: 0, runtimeSnapshot: true });
const fromCode = createIsolateRunner({ warmIsolates: 0, runtimeSnapshot: false });
const aheadFromSnapshot = createIsolateRunner({ warmIsolates: 2, runtimeSnapshot: true });
afterAll(() => {
  for (const runner of [fromSnapshot, fromCode, aheadFromSnapshot]) runner.dispose();
});

/** Describes everything a script can observe of its global scope and of its own module's state. */
const OBSERVER = `
const moduleState = { counter: 0, created: typeof Headers, list: [] };
moduleState.list.push(Object.getOwnPropertyNames(globalThis).length);
function describeGlobals() {
  return Object.getOwnPropertyNames(globalThis).sort().map((name) => {
    const d = Object.getOwnPropertyDescriptor(globalThis, name);
    const kind = "value" in d ? typeof d.value : "accessor";
    return [name, kind, d.enumerable, d.configurable, "value" in d ? d.writable : null].join(":");
  });
}
export default { async fetch(request) {
  moduleState.counter++;
  globalThis.leftover = (globalThis.leftover ?? 0) + 1;
  const proto = Object.getOwnPropertyNames(Response.prototype).sort();
  return Response.json({
    globals: describeGlobals(),
    proto,
    moduleState,
    leftover: globalThis.leftover,
    random: Math.random() !== Math.random(),
    headers: [...new Headers({ b: "2", a: "1" })],
    url: new URL(request.url).pathname,
  });
} }`;

async function observe(runner: typeof fromSnapshot): Promise<Record<string, unknown>> {
  const prepared = await runner.prepare(workerScript(OBSERVER, { limits: { ...TEST_LIMITS, cpuMs: 1_000 } }));
  return JSON.parse(bodyText(await runner.run(prepared, hostRequest())));
}

describe("isolates started from the runtime's snapshot", () => {
  it("give a script exactly the globals, prototypes and module state of an isolate that ran the runtime's code", async () => {
    const snapshot = await observe(fromSnapshot);
    const code = await observe(fromCode);
    expect(snapshot).toEqual(code);
    expect(snapshot.moduleState).toEqual({ counter: 1, created: "function", list: [expect.any(Number)] });
  });

  it("never carry state from one request to the next, built on demand or ahead of time", async () => {
    for (const runner of [fromSnapshot, aheadFromSnapshot]) {
      const prepared = await runner.prepare(
        workerScript(OBSERVER, { limits: { ...TEST_LIMITS, cpuMs: 1_000 } }),
      );
      const seen = [];
      for (let i = 0; i < 4; i++) {
        const body = JSON.parse(bodyText(await runner.run(prepared, hostRequest())));
        seen.push([body.leftover, body.moduleState.counter]);
        // Let isolates built ahead of time be used too.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      expect(seen).toEqual([
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 1],
      ]);
    }
  });

  it("draw different Math.random sequences in every isolate", async () => {
    const prepared = await fromSnapshot.prepare(
      workerScript(`export default { fetch: () => new Response(String(Math.random())) }`),
    );
    const values = new Set<string>();
    for (let i = 0; i < 4; i++) values.add(bodyText(await fromSnapshot.run(prepared, hostRequest())));
    expect(values.size).toBe(4);
  });
});
