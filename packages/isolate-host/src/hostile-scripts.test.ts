import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, runSource, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError, type RunError, type RunResult } from "./index.js";

const runner = createIsolateRunner();
/** For cases that need more than the default 50 ms of CPU to reach the limit under test. */
const generous = createIsolateRunner({ maxLimits: { cpuMs: 5_000, memoryMb: 128, wallMs: 30_000 } });
afterAll(() => Promise.all([runner.dispose(), generous.dispose()]));

const NORMAL = `export default { fetch: (req) => new Response("fine " + new URL(req.url).pathname) }`;

async function runError(
  source: string,
  limits?: { cpuMs: number; memoryMb: number; wallMs: number },
): Promise<RunError> {
  const target = limits === undefined ? runner : generous;
  const err = await rejectionOf(runSource(target, source, {}, limits === undefined ? {} : { limits }));
  if (!isRunError(err)) throw err;
  return err;
}

/** After each hostile case, an ordinary script must still be served. */
async function expectNormalRequestWorks(): Promise<void> {
  expect(bodyText(await runSource(runner, NORMAL))).toBe("fine /path");
}

describe("hostile scripts", () => {
  it("an endless loop in fetch() is stopped with EDGE_CPU_LIMIT 503", async () => {
    const err = await runError(`export default { fetch() { while (true) {} } }`);
    expect(err.code).toBe("EDGE_CPU_LIMIT");
    expect(err.status).toBe(503);
    expect(err.cpuMs).toBeGreaterThanOrEqual(50);
    await expectNormalRequestWorks();
  });

  it("an endless loop after an await (inside a microtask) is stopped with EDGE_CPU_LIMIT", async () => {
    const err = await runError(
      `export default { async fetch() { await Promise.resolve(); while (true) {} } }`,
    );
    expect(err.code).toBe("EDGE_CPU_LIMIT");
    await expectNormalRequestWorks();
  });

  it("an endless loop in top-level code is stopped while preparing, at the start-up CPU limit", async () => {
    const err = await rejectionOf(runner.prepare(workerScript(`while (true) {} export default {}`)));
    expect(isRunError(err) && err.code).toBe("EDGE_STARTUP_LIMIT");
    await expectNormalRequestWorks();
  });

  it("a memory bomb is stopped with EDGE_MEMORY_LIMIT 503", async () => {
    const err = await runError(
      `export default { fetch() { const a = []; while (true) { a.push("x".repeat(64 * 1024) + a.length); } } }`,
      { cpuMs: 5_000, memoryMb: 32, wallMs: 20_000 },
    );
    expect(err.code).toBe("EDGE_MEMORY_LIMIT");
    expect(err.status).toBe(503);
    await expectNormalRequestWorks();
  });

  it("deep recursion is a script error (RangeError), not a crash", async () => {
    const err = await runError(
      `function f(n) { return f(n + 1) + 1; } export default { fetch() { return f(0); } }`,
    );
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.message).toMatch(/^RangeError: Maximum call stack size exceeded/);
    await expectNormalRequestWorks();
  });

  it("a response that can never come is ended at once with EDGE_NO_RESPONSE 500", async () => {
    const err = await runError(`export default { fetch: () => new Promise(() => {}) }`, {
      cpuMs: 50,
      memoryMb: 32,
      wallMs: 30_000,
    });
    expect(err.code).toBe("EDGE_NO_RESPONSE");
    expect(err.status).toBe(500);
    await expectNormalRequestWorks();
  });

  it("a response awaiting a timer past the wall limit is stopped with EDGE_WALL_LIMIT 504", async () => {
    const err = await runError(`export default { fetch: () => new Promise((r) => setTimeout(r, 60_000)) }`, {
      cpuMs: 50,
      memoryMb: 32,
      wallMs: 200,
    });
    expect(err.code).toBe("EDGE_WALL_LIMIT");
    expect(err.status).toBe(504);
    await expectNormalRequestWorks();
  });

  it("sees no host globals: process, require, module, Buffer, the runtime's entry point", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() {
        const names = ["process", "require", "module", "exports", "Buffer", "global", "setImmediate", "__edgeInit"];
        return Response.json(names.map((n) => typeof globalThis[n]));
      } }`,
    );
    expect(JSON.parse(bodyText(result))).toEqual(Array(8).fill("undefined"));
    expect(typeof (globalThis as Record<string, unknown>).process).toBe("object");
  });

  it("cannot reach the host through constructors of the objects it is given", async () => {
    const result = await runSource(
      runner,
      `export default { fetch(req, env, ctx) {
        const F = req.constructor.constructor;
        const g = F("return this")();
        return Response.json([typeof g.process, env.constructor.constructor("return typeof process")()]);
      } }`,
    );
    expect(JSON.parse(bodyText(result))).toEqual(["undefined", "undefined"]);
  });

  it("prototype and built-in pollution does not reach the next request", async () => {
    // The polluting request may break itself (the runtime shares its realm); only the next one matters.
    await runSource(
      runner,
      `export default { fetch() {
        Object.prototype.polluted = "yes";
        Array.prototype.map = () => "hijacked";
        JSON.stringify = () => "hijacked";
        globalThis.Response.prototype.marker = 1;
        return new Response("ok");
      } }`,
    ).catch(() => undefined);
    const result = await runSource(
      runner,
      `export default { fetch() {
        return new Response(JSON.stringify({ polluted: ({}).polluted ?? null, map: [1, 2].map((x) => x * 2), marker: Response.prototype.marker ?? null }));
      } }`,
    );
    expect(JSON.parse(bodyText(result))).toEqual({ polluted: null, map: [2, 4], marker: null });
  });

  it("a global set in one request is gone in the next, even for the same prepared script", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { fetch() {
        const seen = globalThis.counter ?? 0;
        globalThis.counter = seen + 1;
        return new Response(String(seen));
      } }`),
    );
    const first = await runner.run(prepared, hostRequest());
    const second = await runner.run(prepared, hostRequest());
    expect([bodyText(first), bodyText(second)]).toEqual(["0", "0"]);
  });

  it("a script that breaks built-ins the runtime relies on only affects its own request", async () => {
    const result = await runSource(
      runner,
      `export default { fetch(req, env, ctx) {
        Promise.allSettled = () => { throw new Error("sabotaged"); };
        Promise.prototype.then = function () { throw new Error("sabotaged"); };
        ctx.waitUntil(Promise.resolve());
        return new Response("x");
      } }`,
    ).catch((err: unknown) => err);
    // Whatever happens to this request is the script's own business; the next one must not notice.
    if (!isRunError(result)) {
      const background = await (result as RunResult).waitUntil;
      expect(background.error === null || isRunError(background.error)).toBe(true);
    }
    await expectNormalRequestWorks();
  });

  it("cannot flood the host with console output", async () => {
    const result = await runSource(
      generous,
      `export default { fetch() {
        const big = "y".repeat(100_000);
        for (let i = 0; i < 10_000; i++) console.log(big);
        return new Response("done");
      } }`,
      {},
      { limits: { cpuMs: 5_000, memoryMb: 64, wallMs: 20_000 } },
    );
    expect(bodyText(result)).toBe("done");
    const chars = result.logs.reduce((sum, line) => sum + line.message.length, 0);
    expect(result.logs.length).toBeLessThanOrEqual(257);
    expect(chars).toBeLessThanOrEqual(256 * 1024 + 200);
    expect(result.logs.at(-1)?.message).toContain("console output limit reached");
  });

  it("a runaway request does not hold up requests running beside it", async () => {
    const runaway = rejectionOf(runSource(runner, `export default { fetch() { while (true) {} } }`));
    const normals = await Promise.all([1, 2, 3].map(() => runSource(runner, NORMAL)));
    expect(normals.map(bodyText)).toEqual(["fine /path", "fine /path", "fine /path"]);
    const err = await runaway;
    expect(isRunError(err) && err.code).toBe("EDGE_CPU_LIMIT");
  });

  it("disposing the runner ends requests still running", async () => {
    const doomed = createIsolateRunner({ maxLimits: { cpuMs: 60_000, memoryMb: 32, wallMs: 60_000 } });
    const prepared = await doomed.prepare(
      workerScript(`export default { fetch() { while (true) {} } }`, {
        limits: { cpuMs: 60_000, memoryMb: 32, wallMs: 60_000 },
      }),
    );
    const pending = rejectionOf(doomed.run(prepared, hostRequest()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopped = doomed.dispose();
    expect(await pending).toBeInstanceOf(Error);
    await stopped;
  });
});
