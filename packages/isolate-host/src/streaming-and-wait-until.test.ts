import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, runSource, workerScript } from "../test/helpers.js";
import { createIsolateRunner, isRunError, type StreamingRunResult } from "./index.js";

const runner = createIsolateRunner({ maxResponseBytes: 64 * 1024 });
afterAll(() => runner.dispose());

async function stream(
  source: string,
  limits = { cpuMs: 50, memoryMb: 64, wallMs: 5_000 },
): Promise<StreamingRunResult> {
  const prepared = await runner.prepare(workerScript(source, { limits }));
  return runner.runStreaming(prepared, hostRequest());
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of body) chunks.push(new TextDecoder().decode(chunk));
  return chunks;
}

const COUNTING_STREAM = `export default { fetch() {
  let n = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (n === 3) { console.log("stream closed"); c.close(); return; }
      c.enqueue(new TextEncoder().encode("chunk" + n++));
    },
    cancel() { console.log("stream cancelled"); },
  }), { status: 201, headers: { "x-streamed": "yes" } });
} }`;

describe("runStreaming()", () => {
  it("resolves with the head first, then yields the script's chunks as they come", async () => {
    const result = await stream(COUNTING_STREAM);
    expect(result.response.status).toBe(201);
    expect(result.response.length).toBeNull();
    expect(result.response.headers).toContainEqual(["x-streamed", "yes"]);
    expect(await collect(result.response.body)).toEqual(["chunk0", "chunk1", "chunk2"]);
    const done = await result.waitUntil;
    expect(done.error).toBeNull();
    expect(done.logs.map((line) => line.message)).toEqual(["stream closed"]);
  });

  it("stopping early cancels the script's stream and ends the request", async () => {
    const result = await stream(COUNTING_STREAM);
    for await (const chunk of result.response.body) {
      expect(new TextDecoder().decode(chunk)).toBe("chunk0");
      break;
    }
    const done = await result.waitUntil;
    expect(done.logs.map((line) => line.message)).toEqual(["stream cancelled"]);
  });

  it("gives a whole body as one chunk, with its length known up front", async () => {
    const result = await stream(`export default { fetch: () => new Response("all at once") }`);
    expect(result.response.length).toBe(11);
    expect(await collect(result.response.body)).toEqual(["all at once"]);
  });

  it("a stream past the response size limit fails mid-body with EDGE_RESPONSE_TOO_LARGE", async () => {
    const result = await stream(`export default { fetch() {
      return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(16 * 1024)); } }));
    } }`);
    const err = await rejectionOf(collect(result.response.body));
    expect(isRunError(err) && [err.code, err.status]).toEqual(["EDGE_RESPONSE_TOO_LARGE", 502]);
  });

  it("a body nobody reads is ended by the wall-clock limit", async () => {
    const result = await stream(COUNTING_STREAM, { cpuMs: 50, memoryMb: 64, wallMs: 300 });
    const done = await result.waitUntil;
    expect(done.error?.code).toBe("EDGE_WALL_LIMIT");
  });
});

describe("response size and ctx.waitUntil limits", () => {
  it("a buffered response past the limit is EDGE_RESPONSE_TOO_LARGE 502", async () => {
    const err = await rejectionOf(
      runSource(runner, `export default { fetch: () => new Response(new Uint8Array(65 * 1024)) }`),
    );
    expect(isRunError(err) && [err.code, err.status]).toEqual(["EDGE_RESPONSE_TOO_LARGE", 502]);
  });

  it("a waitUntil that never ends is stopped by the wall-clock limit after the response went out", async () => {
    const result = await runSource(
      runner,
      `export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise(() => {})); return new Response("sent"); } }`,
      {},
      { limits: { cpuMs: 50, memoryMb: 64, wallMs: 300 } },
    );
    expect(bodyText(result)).toBe("sent");
    const background = await result.waitUntil;
    expect(background.error?.code).toBe("EDGE_WALL_LIMIT");
  });

  it("an endless loop in waitUntil work is stopped by the CPU limit, the response already sent", async () => {
    const result = await runSource(
      runner,
      `export default { fetch(req, env, ctx) {
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 5)).then(() => { while (true) {} }));
        return new Response("sent");
      } }`,
    );
    expect(bodyText(result)).toBe("sent");
    expect((await result.waitUntil).error?.code).toBe("EDGE_CPU_LIMIT");
  });

  it("timers left pending when the response is done never fire (there is no waitUntil to wait for)", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() { setTimeout(() => console.log("too late"), 10); return new Response("done"); } }`,
    );
    const background = await result.waitUntil;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect([...result.logs, ...background.logs].map((line) => line.message)).toEqual([]);
  });
});
