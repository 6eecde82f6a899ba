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
    // Requests build their isolates on demand here, re-running the top level on the request's own budget.
    const ready = await runner.prepare(
      workerScript(`export default { fetch: () => new Response("ready") }`, {
        limits: { cpuMs: 1_000, memoryMb: 64, wallMs: 10_000 },
      }),
    );
    expect(bodyText(await runner.run(ready, hostRequest()))).toBe("ready");
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
