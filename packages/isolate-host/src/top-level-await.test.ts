import { afterAll, describe, expect, it } from "vitest";
import { bodyText, rejectionOf, runSource, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError } from "./index.js";

const LIMITS = { cpuMs: 1000, memoryMb: 64, wallMs: 2_000 };
const runner = createIsolateRunner({ maxLimits: LIMITS });
afterAll(() => runner.dispose());

describe("top-level await in a script module", () => {
  it("a module awaiting a timer before its export default serves requests with the awaited value", async () => {
    const source = `
      const value = await new Promise((resolve) => setTimeout(() => resolve("late"), 5));
      export default { fetch() { return new Response("value=" + value); } };`;
    const prepared = await runner.prepare(workerScript(source, { limits: LIMITS }));
    for (let i = 0; i < 2; i++) {
      const result = await runner.run(prepared, {
        method: "GET",
        url: "https://example.com/",
        headers: [],
        body: null,
      });
      expect(bodyText(result)).toBe("value=late");
    }
  });

  it("a module whose awaited top-level work rejects later fails with that error, not a dead-zone ReferenceError", async () => {
    const source = `
      await new Promise((_resolve, reject) => setTimeout(() => reject(new TypeError("late failure")), 5));
      export default { fetch() { return new Response("never"); } };`;
    const err = await rejectionOf(runner.prepare(workerScript(source, { limits: LIMITS })));
    if (!isRunError(err)) throw err;
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.message).toBe("TypeError: late failure");
  });

  it("a module awaiting forever hits the wall-clock limit", async () => {
    const source = `await new Promise(() => {});
      export default { fetch() { return new Response("never"); } };`;
    const err = await rejectionOf(
      runner.prepare(workerScript(source, { limits: { cpuMs: 1000, memoryMb: 64, wallMs: 200 } })),
    );
    if (!isRunError(err)) throw err;
    expect(err.code).toBe("EDGE_WALL_LIMIT");
  });

  it("top-level code that throws before export default reports its own error", async () => {
    const err = await rejectionOf(
      runSource(runner, `undefinedThing();\nexport default { fetch() { return new Response("x"); } };`),
    );
    if (!isRunError(err)) throw err;
    expect(err.message).toBe("ReferenceError: undefinedThing is not defined");
  });
});
