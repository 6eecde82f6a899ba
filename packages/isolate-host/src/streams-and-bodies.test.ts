import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner();
afterAll(() => runner.dispose());

async function json(source: string, request = {}): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(runner, source, request)));
}

describe("web streams", () => {
  it("pipes a ReadableStream through a TransformStream into a WritableStream", async () => {
    const body = await json(`export default { async fetch() {
      const source = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
      const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); } });
      const seen = [];
      await source.pipeThrough(upper).pipeTo(new WritableStream({ write(chunk) { seen.push(chunk); } }));
      return Response.json({ seen, strategy: new CountQueuingStrategy({ highWaterMark: 3 }).highWaterMark });
    } }`);
    expect(body).toEqual({ seen: ["A", "B"], strategy: 3 });
  });
});

describe("bodies as streams", () => {
  it("exposes the incoming request body as a ReadableStream of bytes", async () => {
    const body = await json(
      `export default { async fetch(req) {
        const reader = req.body.getReader();
        let text = "";
        const decoder = new TextDecoder();
        for (;;) { const { done, value } = await reader.read(); if (done) break; text += decoder.decode(value, { stream: true }); }
        return Response.json({ text, isStream: req.body instanceof ReadableStream, used: req.bodyUsed, noBody: new Request("https://x.example/").body });
      } }`,
      { method: "POST", body: new TextEncoder().encode("streamed body") },
    );
    expect(body).toEqual({ text: "streamed body", isStream: true, used: true, noBody: null });
  });

  it("sends a Response built from a ReadableStream, chunk by chunk, as one body", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() {
        const encoder = new TextEncoder();
        let n = 0;
        const stream = new ReadableStream({ async pull(c) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (n === 3) { c.close(); return; }
          c.enqueue(encoder.encode("part" + n++ + ";"));
        } });
        return new Response(stream, { headers: { "content-type": "text/plain" } });
      } }`,
    );
    expect(bodyText(result)).toBe("part0;part1;part2;");
  });

  it("reads a stream body with text(), clones it with tee, and refuses a second read", async () => {
    const body = await json(`export default { async fetch() {
      const make = () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"x":1}')); c.close(); } });
      const response = new Response(make());
      const copy = response.clone();
      const parsed = await response.json();
      let second = "accepted";
      try { await response.text(); } catch (e) { second = e.constructor.name; }
      const request = new Request("https://x.example/", { method: "POST", body: make() });
      const moved = new Request(request);
      return Response.json({ parsed, copy: await copy.text(), second, used: response.bodyUsed,
        moved: await moved.text(), originalUsed: request.bodyUsed });
    } }`);
    expect(body).toEqual({
      parsed: { x: 1 },
      copy: '{"x":1}',
      second: "TypeError",
      used: true,
      moved: '{"x":1}',
      originalUsed: true,
    });
  });

  it("a stream that errors after the response head is an EDGE_SCRIPT_ERROR for the buffered run()", async () => {
    const err = await runSource(
      runner,
      `export default { fetch() {
        return new Response(new ReadableStream({ pull(c) { c.error(new RangeError("stream broke")); } }));
      } }`,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "EDGE_SCRIPT_ERROR",
      message: "RangeError: stream broke",
      status: 500,
    });
  });

  it("a stream that yields strings instead of bytes is refused", async () => {
    const err = await runSource(
      runner,
      `export default { fetch() {
        return new Response(new ReadableStream({ start(c) { c.enqueue("text"); c.close(); } }));
      } }`,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EDGE_SCRIPT_ERROR" });
  });
});
