import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, TEST_LIMITS, workerScript } from "../test/helpers.js";
import { Admission } from "./admission.js";
import { createIsolateRunner, isRunError, type RunResult } from "./index.js";

describe("Admission", () => {
  it("lets in `capacity` requests, hands freed slots over in arrival order, and counts a release once", async () => {
    const admission = new Admission(2, 10);
    const first = await admission.enter();
    await admission.enter();
    const order: number[] = [];
    const third = admission.enter().then((leave) => {
      order.push(3);
      return leave;
    });
    const fourth = admission.enter().then(() => order.push(4));
    expect(admission.load).toEqual({ active: 2, waiting: 2 });
    first();
    first(); // a second call frees nothing more
    (await third)();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(admission.load).toEqual({ active: 2, waiting: 0 });
  });

  it("refuses with EDGE_OVERLOADED (503) once the queue is full", async () => {
    const admission = new Admission(1, 1);
    await admission.enter();
    void admission.enter();
    const err = await rejectionOf(admission.enter());
    expect(isRunError(err) && { code: err.code, status: err.status }).toEqual({
      code: "EDGE_OVERLOADED",
      status: 503,
    });
  });
});

describe("admission of requests into isolates", () => {
  const runners: Array<{ dispose(): Promise<void> }> = [];
  afterAll(() => Promise.all(runners.map((runner) => runner.dispose())));

  it("a burst of CPU-bound requests queues instead of being charged for each other's CPU", async () => {
    const runner = createIsolateRunner({ admission: { concurrency: 2 } });
    runners.push(runner);
    // About 2 ms of work each, against a 50 ms limit: only oversubscribed threads could make it look like 50.
    const prepared = await runner.prepare(
      workerScript(`export default { fetch() {
        let x = 0; const end = Date.now() + 2; while (Date.now() < end) x++;
        return new Response("done");
      } }`),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 150 }, () => runner.run(prepared, hostRequest())),
    );
    const failures = results.filter((r) => r.status === "rejected").map((r) => (r.reason as Error).message);
    expect(failures).toEqual([]);
    const values = results.map((r) => (r as PromiseFulfilledResult<RunResult>).value);
    expect(values.every((r) => bodyText(r) === "done" && r.cpuMs < TEST_LIMITS.cpuMs)).toBe(true);
  });

  it("a request waiting on a timer gives up its slot, so others run meanwhile", async () => {
    const runner = createIsolateRunner({ admission: { concurrency: 1 }, warmIsolates: 0 });
    runners.push(runner);
    const slow = await runner.prepare(
      workerScript(`export default { async fetch() {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return new Response("slow");
      } }`),
    );
    const quick = await runner.prepare(workerScript(`export default { fetch: () => new Response("quick") }`));
    const finished: string[] = [];
    const track = (p: Promise<RunResult>) => p.then((r) => finished.push(bodyText(r)));
    await Promise.all([track(runner.run(slow, hostRequest())), track(runner.run(quick, hostRequest()))]);
    expect(finished).toEqual(["quick", "slow"]);
  });

  it("requests past the queue get EDGE_OVERLOADED while the admitted ones complete", async () => {
    const runner = createIsolateRunner({ admission: { concurrency: 1, maxQueue: 1 }, warmIsolates: 0 });
    runners.push(runner);
    const prepared = await runner.prepare(workerScript(`export default { fetch: () => new Response("ok") }`));
    const results = await Promise.allSettled([1, 2, 3].map(() => runner.run(prepared, hostRequest())));
    expect(
      results.map((r) =>
        r.status === "fulfilled" ? bodyText(r.value) : isRunError(r.reason) ? r.reason.code : "other",
      ),
    ).toEqual(["ok", "ok", "EDGE_OVERLOADED"]);
  });

  it("a deploy waits for a slot like a request, but is never refused for overload", async () => {
    const runner = createIsolateRunner({
      admission: { concurrency: 1, maxQueue: 0 },
      maxLimits: { cpuMs: 1_000, memoryMb: 64, wallMs: 5_000 },
      warmIsolates: 0,
    });
    runners.push(runner);
    const busy = await runner.prepare(
      workerScript(
        `export default { fetch() {
          let x = 0; const end = Date.now() + 300; while (Date.now() < end) x++;
          return new Response("busy");
        } }`,
        { limits: { ...TEST_LIMITS, cpuMs: 1_000 } },
      ),
    );
    const finished: string[] = [];
    const running = runner.run(busy, hostRequest()).then((r) => finished.push(bodyText(r)));
    const deployed = runner
      .prepare(workerScript(`export default { fetch: () => new Response("ok") }`))
      .then(() => finished.push("prepared"));
    await Promise.all([running, deployed]);
    expect(finished).toEqual(["busy", "prepared"]);
  });

  it("a threaded runner shares the node's slots among its threads", async () => {
    const runner = createIsolateRunner({ threads: 2, admission: { concurrency: 2, maxQueue: 2 } });
    runners.push(runner);
    const prepared = await runner.prepare(
      workerScript(`export default { fetch() {
        let x = 0; const end = Date.now() + 20; while (Date.now() < end) x++;
        return new Response("ok");
      } }`),
    );
    // Two slots and two queue places over two threads: of eight at once, some are refused.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => runner.run(prepared, hostRequest())),
    );
    const codes = results.map((r) =>
      r.status === "fulfilled" ? "ok" : isRunError(r.reason) ? r.reason.code : "other",
    );
    expect(codes).toContain("ok");
    expect(codes).toContain("EDGE_OVERLOADED");
    expect(codes.filter((code) => code !== "ok" && code !== "EDGE_OVERLOADED")).toEqual([]);
  });
});
