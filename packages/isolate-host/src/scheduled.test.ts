import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, workerScript } from "../test/helpers.js";
import { createIsolateRunner, type IsolateRunner, isRunError } from "./index.js";

/** Cron Triggers: the scheduled() handler, on the calling thread and on worker threads. */
const local = createIsolateRunner({ maxLimits: { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 } });
const threaded = createIsolateRunner({
  threads: 1,
  maxLimits: { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 },
});
afterAll(() => Promise.all([local.dispose(), threaded.dispose()]));

const limits = { cpuMs: 1000, memoryMb: 128, wallMs: 5_000 };
const EVENT = { cron: "*/5 * * * *", scheduledTime: Date.UTC(2026, 11, 2, 8, 0) };

const CRON = `export default {
  async scheduled(controller, env, ctx) {
    globalThis.runs = (globalThis.runs ?? 0) + 1;
    globalThis.console.log(controller.cron, controller.scheduledTime, controller.type, env.NAME, globalThis.runs,
      Object.prototype.toString.call(controller));
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 5)).then(() => console.log("waited")));
  },
};`;

describe.each([
  ["on the calling thread", local],
  ["on a worker thread", threaded],
] as Array<[string, IsolateRunner]>)("runScheduled %s", (_where, runner) => {
  it("calls scheduled(controller, env, ctx) in a fresh isolate and waits for its waitUntil work", async () => {
    const prepared = await runner.prepare(workerScript(CRON, { vars: { NAME: "job" }, limits }));
    const first = await runner.runScheduled(prepared, EVENT);
    const second = await runner.runScheduled(prepared, EVENT);
    expect(first).toMatchObject({ outcome: "ok", error: null, noRetry: false });
    const lines = (r: typeof first) => r.logs.map((line) => line.message);
    expect(lines(first)).toEqual([
      `*/5 * * * * ${EVENT.scheduledTime} scheduled job 1 [object ScheduledController]`,
      "waited",
    ]);
    // A fresh isolate each time: module state does not carry over.
    expect(lines(second)[0]).toContain(" job 1 ");
  });

  it("reports an exception with its message and whether noRetry() was called", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { scheduled(c) { c.noRetry(); throw new Error("boom"); } };`, { limits }),
    );
    const result = await runner.runScheduled(prepared, EVENT);
    expect(result.outcome).toBe("exception");
    expect(result.error?.code).toBe("EDGE_SCRIPT_ERROR");
    expect(result.error?.message).toContain("boom");
    expect(result.noRetry).toBe(true);
  });

  it("reports a limit when the handler spins past its CPU limit", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { scheduled() { for (;;) {} } };`, {
        limits: { cpuMs: 20, memoryMb: 128, wallMs: 5_000 },
      }),
    );
    const result = await runner.runScheduled(prepared, EVENT);
    expect(result.outcome).toBe("limit");
    expect(["EDGE_CPU_LIMIT", "EDGE_WALL_LIMIT"]).toContain(result.error?.code);
  });

  it("accepts a scheduled-only Worker, which answers requests with EDGE_NO_FETCH_HANDLER", async () => {
    const prepared = await runner.prepare(workerScript(`export default { scheduled() {} };`, { limits }));
    expect((await runner.runScheduled(prepared, EVENT)).outcome).toBe("ok");
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && err.code).toBe("EDGE_NO_FETCH_HANDLER");
  });

  it("reports EDGE_NO_SCHEDULED_HANDLER as an exception for a fetch-only Worker", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { fetch() { return new Response("hi"); } };`, { limits }),
    );
    expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("hi");
    const result = await runner.runScheduled(prepared, EVENT);
    expect(result).toMatchObject({ outcome: "exception", error: { code: "EDGE_NO_SCHEDULED_HANDLER" } });
  });
});
