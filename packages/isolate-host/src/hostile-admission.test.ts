import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, TEST_LIMITS, workerScript } from "../test/helpers.js";
import { Admission } from "./admission.js";
import { createIsolateRunner, type IsolateRunner, isRunError } from "./index.js";

const ROOMY = { ...TEST_LIMITS, cpuMs: 1_000 };

function codeOf(err: unknown): string {
  return isRunError(err) ? err.code : String(err);
}

describe("Admission per script", () => {
  it("keeps one script to its share of slots while another script's request gets in", async () => {
    const admission = new Admission(2, 10, 1);
    await admission.enter({ key: "hog" });
    const order: string[] = [];
    const secondHog = admission.enter({ key: "hog" }).then(() => order.push("hog"));
    await admission.enter({ key: "neighbour" }).then(() => order.push("neighbour"));
    expect(order).toEqual(["neighbour"]);
    expect(admission.load).toEqual({ active: 2, waiting: 1 });
    void secondHog;
  });

  it("stops waiting for a slot when the signal aborts", async () => {
    const admission = new Admission(1, 10);
    await admission.enter();
    const controller = new AbortController();
    const waiting = admission.enter({ signal: controller.signal });
    controller.abort(new Error("client gone"));
    expect(((await rejectionOf(waiting)) as Error).message).toBe("client gone");
    expect(admission.load).toEqual({ active: 1, waiting: 0 });
  });
});

describe("requests that wait do not hold the node", () => {
  const runners: IsolateRunner[] = [];
  afterAll(() => Promise.all(runners.map((runner) => runner.dispose())));

  it("a handler awaiting a promise nothing can settle ends at once with EDGE_NO_RESPONSE (500)", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0 });
    runners.push(runner);
    const prepared = await runner.prepare(
      workerScript(
        `export default { async fetch() { await new Promise(() => {}); return new Response("never"); } }`,
        {
          limits: { ...ROOMY, wallMs: 30_000 },
        },
      ),
    );
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && { code: err.code, status: err.status }).toEqual({
      code: "EDGE_NO_RESPONSE",
      status: 500,
    });
  });

  it("a handler that settles after several timers still answers", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0, admission: { concurrency: 1 } });
    runners.push(runner);
    const prepared = await runner.prepare(
      workerScript(
        `export default { async fetch() {
          let n = 0;
          for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(() => { n++; r(); }, 5));
          await Promise.resolve();
          return new Response("ticks " + n);
        } }`,
        { limits: ROOMY },
      ),
    );
    expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("ticks 3");
  });

  it("2 × slots + 2 requests waiting on long timers leave the slots to a neighbour script", async () => {
    const concurrency = 2;
    const runner = createIsolateRunner({ warmIsolates: 0, admission: { concurrency } });
    runners.push(runner);
    const waiter = await runner.prepare(
      workerScript(
        `export default { async fetch() { await new Promise((r) => setTimeout(r, 60_000)); return new Response("late"); } }`,
        { name: "waiter", limits: { ...ROOMY, wallMs: 3_000 } },
      ),
    );
    const neighbour = await runner.prepare(
      workerScript(`export default { fetch: () => new Response("neighbour") }`, {
        name: "neighbour",
        limits: ROOMY,
      }),
    );
    const order: string[] = [];
    const waiting = Array.from({ length: 2 * concurrency + 2 }, () =>
      runner.run(waiter, hostRequest()).then(
        () => order.push("waiter"),
        (err: unknown) => order.push(codeOf(err)),
      ),
    );
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(bodyText(await runner.run(neighbour, hostRequest())));
    order.push("neighbour done");
    await Promise.all(waiting);
    expect(answers).toEqual(Array(5).fill("neighbour"));
    expect(order[0]).toBe("neighbour done");
    expect(order.slice(1)).toEqual(Array(2 * concurrency + 2).fill("EDGE_WALL_LIMIT"));
  });

  it("refuses a script's requests past its in-flight bound with EDGE_OVERLOADED while a neighbour is served", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0, admission: { maxInFlightPerScript: 3 } });
    runners.push(runner);
    const sleeper = await runner.prepare(
      workerScript(
        `export default { async fetch() { await new Promise((r) => setTimeout(r, 60_000)); return new Response("late"); } }`,
        { name: "sleeper", limits: { ...ROOMY, wallMs: 2_000 } },
      ),
    );
    const neighbour = await runner.prepare(
      workerScript(`export default { fetch: () => new Response("neighbour") }`, {
        name: "neighbour",
        limits: ROOMY,
      }),
    );
    const sleeping = Array.from({ length: 4 }, () => runner.run(sleeper, hostRequest()).catch(codeOf));
    expect(bodyText(await runner.run(neighbour, hostRequest()))).toBe("neighbour");
    expect((await Promise.all(sleeping)).sort()).toEqual([
      "EDGE_OVERLOADED",
      "EDGE_WALL_LIMIT",
      "EDGE_WALL_LIMIT",
      "EDGE_WALL_LIMIT",
    ]);
  });

  it("a client that goes away ends the run with EDGE_CLIENT_CLOSED", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0 });
    runners.push(runner);
    const prepared = await runner.prepare(
      workerScript(
        `export default { async fetch() { await new Promise((r) => setTimeout(r, 20_000)); return new Response("late"); } }`,
        { limits: { ...ROOMY, wallMs: 30_000 } },
      ),
    );
    const controller = new AbortController();
    const running = runner.run(prepared, hostRequest(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(codeOf(await rejectionOf(running))).toBe("EDGE_CLIENT_CLOSED");
  });

  it("a threaded runner ends the run of a client that went away too", async () => {
    const runner = createIsolateRunner({ threads: 1, warmIsolates: 0 });
    runners.push(runner);
    const prepared = await runner.prepare(
      workerScript(
        `export default { async fetch() { await new Promise((r) => setTimeout(r, 20_000)); return new Response("late"); } }`,
        { limits: { ...ROOMY, wallMs: 30_000 } },
      ),
    );
    const controller = new AbortController();
    const running = runner.run(prepared, hostRequest(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(codeOf(await rejectionOf(running))).toBe("EDGE_CLIENT_CLOSED");
  });
});

/** (module (memory (export "mem") 1) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)) */
const GROW_MODULE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02,
  0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0e, 0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x67,
  0x72, 0x6f, 0x77, 0x00, 0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
];

describe("WebAssembly memory counts against the memory limit", () => {
  const runner = createIsolateRunner({ warmIsolates: 0 });
  afterAll(() => runner.dispose());
  const limits = { ...ROOMY, memoryMb: 64 };

  it("a Wasm memory grown past the script's memory limit ends the request with EDGE_MEMORY_LIMIT (503)", async () => {
    const prepared = await runner.prepare(
      workerScript(
        `export default { async fetch() {
          const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384 });
          memory.grow(8000);
          new Uint8Array(memory.buffer).fill(1);
          await new Promise((r) => setTimeout(r, 1000));
          return new Response("grew " + memory.buffer.byteLength);
        } }`,
        { limits },
      ),
    );
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && { code: err.code, status: err.status }).toEqual({
      code: "EDGE_MEMORY_LIMIT",
      status: 503,
    });
  });

  it("a script that catches the failed growth still ends with EDGE_MEMORY_LIMIT", async () => {
    const prepared = await runner.prepare(
      workerScript(
        `export default { fetch() {
          try { new WebAssembly.Memory({ initial: 2048 }); } catch (e) { return new Response("caught " + e.name); }
          return new Response("allocated");
        } }`,
        { limits },
      ),
    );
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && err.code).toBe("EDGE_MEMORY_LIMIT");
  });

  it("a module's own memory cannot grow past the limit, and grows within it", async () => {
    const prepared = await runner.prepare(
      workerScript(
        `const bytes = new Uint8Array(${JSON.stringify(GROW_MODULE)});
        export default { async fetch() {
          const { instance } = await WebAssembly.instantiate(bytes);
          const tooFar = instance.exports.grow(2000);
          const within = instance.exports.grow(10);
          return new Response(tooFar + " " + within + " " + instance.exports.mem.buffer.byteLength / 65536);
        } }`,
        { limits },
      ),
    );
    expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("-1 1 11");
  });

  it("small Wasm memories within the limit work as usual", async () => {
    const prepared = await runner.prepare(
      workerScript(
        `export default { fetch() {
          const memory = new WebAssembly.Memory({ initial: 2, maximum: 10 });
          const before = memory.grow(3);
          return new Response(before + " " + memory.buffer.byteLength / 65536 + " " + (memory instanceof WebAssembly.Memory));
        } }`,
        { limits },
      ),
    );
    expect(bodyText(await runner.run(prepared, hostRequest()))).toBe("2 5 true");
  });
});
