import { afterAll, describe, expect, it } from "vitest";
import { hostRequest, rejectionOf, runSource, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError, type RunError } from "./index.js";

const runner = createIsolateRunner();
afterAll(() => runner.dispose());

async function runError(source: string): Promise<RunError> {
  const err = await rejectionOf(runSource(runner, source));
  if (!isRunError(err)) throw err;
  return err;
}

async function prepareError(source: string): Promise<RunError> {
  const err = await rejectionOf(runner.prepare(workerScript(source)));
  if (!isRunError(err)) throw err;
  return err;
}

describe("run() failures", () => {
  it("an exception in fetch() is EDGE_SCRIPT_ERROR 500 with the script's message and its earlier logs", async () => {
    const err = await runError(
      `export default { fetch() { console.log("before"); throw new TypeError("boom"); } }`,
    );
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.status).toBe(500);
    expect(err.message).toBe("TypeError: boom");
    expect(err.logs.map((line) => line.message)).toEqual(["before"]);
  });

  it("a rejected promise and a thrown non-Error are script errors too", async () => {
    const rejected = await runError(
      `export default { async fetch() { await null; throw new Error("async boom"); } }`,
    );
    expect(rejected.message).toBe("Error: async boom");
    const thrown = await runError(`export default { fetch() { throw "just a string"; } }`);
    expect(thrown.code).toBe("EDGE_SCRIPT_ERROR");
    expect(thrown.message).toBe("Uncaught just a string");
  });

  it("a fetch() that returns something other than a Response is EDGE_BAD_RESPONSE", async () => {
    for (const value of [`"hello"`, `({ status: 200, body: "x" })`, `undefined`]) {
      const err = await runError(`export default { fetch: async () => ${value} }`);
      expect(err.code).toBe("EDGE_BAD_RESPONSE");
      expect(err.status).toBe(500);
    }
  });

  it("rejects a PreparedScript that this runner did not prepare", async () => {
    const forged = { name: "x", version: 1, limits: { cpuMs: 1, memoryMb: 8, wallMs: 1 } };
    await expect(runner.run(forged, hostRequest())).rejects.toThrow(TypeError);
  });
});

describe("prepare() failures", () => {
  it("a syntax error is EDGE_COMPILE_ERROR with the line:column of the fault", async () => {
    const err = await prepareError(`export default {\n  fetch() { return 1 +; }\n}`);
    expect(err.code).toBe("EDGE_COMPILE_ERROR");
    expect(err.message).toMatch(/^SyntaxError: .+ at 2:\d+$/);
  });

  it("a module without a default fetch handler is EDGE_NO_FETCH_HANDLER", async () => {
    for (const source of [`export const x = 1;`, `export default { fetch: 42 }`, `export default null`]) {
      const err = await prepareError(source);
      expect(err.code).toBe("EDGE_NO_FETCH_HANDLER");
    }
  });

  it("accepts a class instance or a function object with a fetch method", async () => {
    await expect(
      runner.prepare(
        workerScript(`class W { fetch() { return new Response("c"); } } export default new W();`),
      ),
    ).resolves.toMatchObject({ name: "test-script" });
  });

  it("imports are EDGE_COMPILE_ERROR: a script must be one bundled module", async () => {
    const err = await prepareError(
      `import x from "./other.js"; export default { fetch: () => new Response(x) }`,
    );
    expect(err.code).toBe("EDGE_COMPILE_ERROR");
    expect(err.message).toContain("./other.js");
  });

  it("an exception in top-level code is EDGE_SCRIPT_ERROR", async () => {
    const err = await prepareError(`throw new RangeError("at load"); export default { fetch() {} }`);
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.message).toBe("RangeError: at load");
  });
});

describe("a disposed runner", () => {
  it("rejects new work", async () => {
    const doomed = createIsolateRunner();
    const prepared = await doomed.prepare(workerScript(`export default { fetch: () => new Response("ok") }`));
    const stopped = doomed.dispose();
    await expect(doomed.run(prepared, hostRequest())).rejects.toThrow(/disposed/);
    await stopped;
  });
});
