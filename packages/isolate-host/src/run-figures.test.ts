import { afterAll, describe, expect, it } from "vitest";
import { hostRequest, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const local = createIsolateRunner({ warmIsolates: 0 });
const threaded = createIsolateRunner({ threads: 1 });
afterAll(() => Promise.all([local.dispose(), threaded.dispose()]));

const HELLO = `export default { fetch: () => new Response("hi") }`;
// Keeps about 4 MB of arrays of doubles alive until the response is handed over.
const HOARDER = `export default { fetch() {
  const kept = [];
  for (let i = 0; i < 4096; i++) kept.push(new Array(128).fill(i + 0.5));
  globalThis.kept = kept;
  return new Response(String(kept.length));
} }`;

describe("what a run reports about its isolate", () => {
  for (const [name, runner] of [
    ["on the calling thread", local],
    ["on a worker thread", threaded],
  ] as const) {
    it(`reports the isolate's start time and the heap the script used, ${name}`, async () => {
      const hello = await runner.run(await runner.prepare(workerScript(HELLO)), hostRequest());
      const hoarder = await runner.run(await runner.prepare(workerScript(HOARDER)), hostRequest());
      expect(hello.startMs).toBeGreaterThan(0);
      expect(hello.startMs).toBeLessThanOrEqual(hello.wallMs);
      expect(hello.heapBytes).toBeGreaterThan(0);
      expect(hoarder.heapBytes - hello.heapBytes).toBeGreaterThan(3 * 1024 * 1024);
      const streamed = await runner.runStreaming(await runner.prepare(workerScript(HELLO)), hostRequest());
      expect(streamed.startMs).toBeGreaterThan(0);
      expect(streamed.heapBytes).toBeGreaterThan(0);
      await streamed.response.body.return?.();
    });
  }
});
