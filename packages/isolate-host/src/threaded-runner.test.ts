import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError } from "./index.js";

/** The same runner contract, with requests spread over two worker threads. */
const runner = createIsolateRunner({ threads: 2, maxResponseBytes: 1024 });
afterAll(() => runner.dispose());

const COUNTER = `export default { fetch(req, env, ctx) {
  globalThis.count = (globalThis.count ?? 0) + 1;
  ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 5)).then(() => console.log("after")));
  return new Response(String(globalThis.count) + " " + env.NAME + " " + new URL(req.url).pathname);
} }`;

describe("a runner with worker threads", () => {
  it("serves concurrent requests, each in its own fresh isolate, with waitUntil work reported", async () => {
    const prepared = await runner.prepare(workerScript(COUNTER, { vars: { NAME: "threads" } }));
    const results = await Promise.all(Array.from({ length: 8 }, () => runner.run(prepared, hostRequest())));
    expect(results.map(bodyText)).toEqual(Array(8).fill("1 threads /path"));
    const background = await Promise.all(results.map((result) => result.waitUntil));
    // On a loaded machine the 5 ms timer may fire before the response is handed over, so the line
    // lands in the request's logs rather than the background's: either way it is reported once.
    const lines = results.map((result, i) =>
      [...result.logs, ...(background[i]?.logs ?? [])].map((line) => line.message),
    );
    expect(lines).toEqual(Array(8).fill(["after"]));
    expect(background.every((b) => b.error === null)).toBe(true);
  });

  it("reports compile errors and run errors with their codes", async () => {
    const compile = await rejectionOf(runner.prepare(workerScript(`export default {`)));
    expect(isRunError(compile) && compile.code).toBe("EDGE_COMPILE_ERROR");
    const prepared = await runner.prepare(workerScript(`export default { fetch() { while (true) {} } }`));
    const cpu = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(cpu) && [cpu.code, cpu.status]).toEqual(["EDGE_CPU_LIMIT", 503]);
  });

  it("streams a body chunk by chunk and enforces the size limit across the thread boundary", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { fetch() {
        let n = 0;
        return new Response(new ReadableStream({ pull(c) { c.enqueue(new TextEncoder().encode("x".repeat(300))); } }));
      } }`),
    );
    const result = await runner.runStreaming(prepared, hostRequest());
    const sizes: number[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of result.response.body) sizes.push(chunk.byteLength);
      })(),
    );
    expect(sizes).toEqual([300, 300, 300]);
    expect(isRunError(err) && err.code).toBe("EDGE_RESPONSE_TOO_LARGE");
  });

  it("carries a whole body's length across the thread boundary when streaming", async () => {
    const prepared = await runner.prepare(
      workerScript(`export default { fetch: () => new Response("twelve bytes") }`),
    );
    const result = await runner.runStreaming(prepared, hostRequest());
    expect(result.response.length).toBe(12);
    const chunks: Uint8Array[] = [];
    for await (const chunk of result.response.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe("twelve bytes");
  });

  it("rejects work once disposed", async () => {
    const doomed = createIsolateRunner({ threads: 1 });
    const prepared = await doomed.prepare(workerScript(`export default { fetch: () => new Response("ok") }`));
    expect(bodyText(await doomed.run(prepared, hostRequest()))).toBe("ok");
    const stopped = doomed.dispose();
    await expect(doomed.run(prepared, hostRequest())).rejects.toThrow(/disposed/);
    await stopped;
  });
});
