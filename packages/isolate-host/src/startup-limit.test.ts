import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError } from "./index.js";

describe("top-level code has its own start-up CPU limit", () => {
  const runner = createIsolateRunner({ warmIsolates: 0, startupCpuMs: 2_000 });
  afterAll(() => runner.dispose());

  it("a script whose top-level code takes longer than its per-request CPU limit still prepares", async () => {
    // About 150 ms of top-level work against a 50 ms request limit (Cloudflare allows 1 s at start-up).
    const prepared = await runner.prepare(
      workerScript(
        `let spins = 0; const end = Date.now() + 150; while (Date.now() < end) spins++;
        export default { fetch: () => new Response("ready") }`,
        { limits: { cpuMs: 50, memoryMb: 64, wallMs: 10_000 } },
      ),
    );
    expect(prepared.limits.cpuMs).toBe(50);
    // No isolate is built ahead here: each request runs the top level again, on the start-up budget.
    expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("ready");
  });

  it("a request's own CPU limit still applies after a heavy top level", async () => {
    const prepared = await runner.prepare(
      workerScript(
        `let spins = 0; const end = Date.now() + 150; while (Date.now() < end) spins++;
        export default { fetch() { while (true) {} } }`,
        { limits: { cpuMs: 50, memoryMb: 64, wallMs: 10_000 } },
      ),
    );
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && err.code).toBe("EDGE_CPU_LIMIT");
  });

  it("top-level code past the start-up limit is refused with EDGE_STARTUP_LIMIT", async () => {
    const err = await rejectionOf(
      runner.prepare(
        workerScript(`while (true) {} export default { fetch: () => new Response("never") }`, {
          limits: { cpuMs: 50, memoryMb: 64, wallMs: 10_000 },
        }),
      ),
    );
    expect(isRunError(err) && err.code).toBe("EDGE_STARTUP_LIMIT");
  });
});
