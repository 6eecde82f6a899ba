import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const unpooled = createIsolateRunner({ warmIsolates: 0 });
const pooled = createIsolateRunner({ warmIsolates: 3 });
afterAll(() => Promise.all([unpooled.dispose(), pooled.dispose()]));

const COUNTER = `export default { fetch(req) {
  globalThis.count = (globalThis.count ?? 0) + 1;
  return new Response(String(globalThis.count) + " " + new URL(req.url).pathname);
} }`;

describe("isolate building", () => {
  it("without pre-built isolates, every request still gets its own fresh isolate", async () => {
    const prepared = await unpooled.prepare(workerScript(COUNTER));
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push(bodyText(await unpooled.run(prepared, hostRequest())));
    expect(bodies).toEqual(["1 /path", "1 /path", "1 /path"]);
  });

  it("with pre-built isolates, concurrent requests never share one", async () => {
    const prepared = await pooled.prepare(workerScript(COUNTER));
    // Gives the pool time to fill so the pre-built path is exercised; the outcome does not depend on it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = await Promise.all(Array.from({ length: 6 }, () => pooled.run(prepared, hostRequest())));
    expect(results.map(bodyText)).toEqual(Array(6).fill("1 /path"));
  });

  it("a pre-built isolate ran the script's top-level code before the request, and its console output reaches that request", async () => {
    const prepared = await pooled.prepare(
      workerScript(
        `console.log("top-level"); export default { fetch: (req) => new Response(new URL(req.url).pathname) }`,
      ),
    );
    // Bounded wait for the pool to fill: a request whose top-level line predates it took a pre-built isolate.
    let ranAhead = false;
    for (let attempt = 0; attempt < 50 && !ranAhead; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = Date.now();
      const result = await pooled.run(prepared, hostRequest());
      expect(bodyText(result)).toBe("/path");
      expect(result.logs.map((line) => line.message)).toEqual(["top-level"]);
      ranAhead = result.logs[0]!.time < before;
    }
    expect(ranAhead).toBe(true);
  });

  it("top-level code that needs the host (randomness, timers) runs per request and still works", async () => {
    const random = await pooled.prepare(
      workerScript(`const id = crypto.randomUUID();
        export default { fetch: () => new Response(id) }`),
    );
    const timer = await pooled.prepare(
      workerScript(`let fired = false;
        setTimeout(() => { fired = true; }, 0);
        export default { async fetch() {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return new Response(String(fired));
        } }`),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(bodyText(await pooled.run(random, hostRequest())));
      expect(bodyText(await pooled.run(timer, hostRequest()))).toBe("true");
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it("an isolate built ahead of time (runtime rehearsed) shows the script the same globals as one built on demand", async () => {
    const source = `export default { fetch: () => Response.json(Object.getOwnPropertyNames(globalThis).sort()) }`;
    const onDemand = bodyText(
      await unpooled.run(await unpooled.prepare(workerScript(source)), hostRequest()),
    );
    const prepared = await pooled.prepare(workerScript(source));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ahead = [];
    for (let i = 0; i < 3; i++) ahead.push(bodyText(await pooled.run(prepared, hostRequest())));
    expect(ahead).toEqual([onDemand, onDemand, onDemand]);
  });

  it("isolates over the memory budget are not kept ready: that script's requests build theirs and still work", async () => {
    const small = createIsolateRunner({ warmIsolates: 2, warmIsolatesMaxBytes: 8 * 1024 * 1024 });
    try {
      const source = (mb: number) =>
        `const table = new Uint8Array(${mb} * 1024 * 1024).fill(1);
        globalThis.console.log("top-level");
        export default { fetch: () => new Response(String(table.length)) }`;
      const big = await small.prepare(workerScript(source(16)));
      const light = await small.prepare(workerScript(source(1)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ranAhead = async (prepared: typeof big, expected: string): Promise<boolean> => {
        const before = Date.now();
        const result = await small.run(prepared, hostRequest());
        expect(bodyText(result)).toBe(expected);
        return result.logs[0]!.time < before;
      };
      // The 1 MiB script fits the budget and is kept ready; the 16 MiB one never is.
      let lightAhead = false;
      for (let attempt = 0; attempt < 50 && !lightAhead; attempt++) {
        lightAhead = await ranAhead(light, String(1024 * 1024));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(lightAhead).toBe(true);
      for (let i = 0; i < 3; i++) {
        expect(await ranAhead(big, String(16 * 1024 * 1024))).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await small.dispose();
    }
  });

  it("a script that does not mention URL can still use it", async () => {
    const prepared = await pooled.prepare(
      workerScript(
        `export default { fetch: (req) => new Response(new globalThis["U" + "RL"](req.url).host) }`,
      ),
    );
    expect(bodyText(await pooled.run(prepared, hostRequest()))).toBe("example.com");
  });

  it("clamps the script's limits to the runner's maxima", async () => {
    const small = createIsolateRunner({ maxLimits: { cpuMs: 20, memoryMb: 32, wallMs: 1_000 } });
    try {
      const prepared = await small.prepare(
        workerScript(`export default { fetch: () => new Response("ok") }`, {
          limits: { cpuMs: 500, memoryMb: 16, wallMs: 60_000 },
        }),
      );
      expect(prepared.limits).toEqual({ cpuMs: 20, memoryMb: 16, wallMs: 1_000 });
    } finally {
      await small.dispose();
    }
  });
});
