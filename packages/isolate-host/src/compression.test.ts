import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { bodyText, rejectionOf, runSource } from "../test/helpers.js";
import { createIsolateRunner, isRunError } from "./index.js";

/** CompressionStream/DecompressionStream (WHATWG Compression Standard) on the host's zlib. */
const LIMITS = { cpuMs: 2_000, memoryMb: 64, wallMs: 20_000 };
const runner = createIsolateRunner({ maxLimits: LIMITS });
afterAll(() => runner.dispose());

async function run(handler: string, body?: Uint8Array) {
  return runSource(
    runner,
    `export default { async fetch(request) { ${handler} } }`,
    body === undefined ? {} : { method: "POST", body },
    { limits: LIMITS },
  );
}

async function evaluate(body: string, requestBody?: Uint8Array): Promise<unknown> {
  const result = await run(
    `const value = await (async () => { ${body} })(); return Response.json(value === undefined ? null : value);`,
    requestBody,
  );
  return JSON.parse(bodyText(result));
}

const text = "The quick brown fox jumps over the lazy dog. ".repeat(4_000);

describe("CompressionStream", () => {
  it.each([
    ["gzip", gunzipSync],
    ["deflate", inflateSync],
    ["deflate-raw", inflateRawSync],
  ] as const)("compresses a body to %s that zlib decompresses back", async (format, decompress) => {
    const result = await run(
      `return new Response(request.body.pipeThrough(new CompressionStream(${JSON.stringify(format)})));`,
      new TextEncoder().encode(text),
    );
    expect(result.response.body.byteLength).toBeLessThan(text.length / 10);
    expect(decompress(result.response.body).toString()).toBe(text);
  });

  it("refuses unknown formats and missing arguments with TypeError, and non-BufferSource chunks by erroring the stream", async () => {
    const result = await evaluate(`
      const thrown = ["GZIP", "brotli", "", undefined].map((f) => {
        try { new CompressionStream(f); return "accepted"; } catch (e) { return e.constructor.name; }
      });
      let missing;
      try { new DecompressionStream(); missing = "accepted"; } catch (e) { missing = e.constructor.name; }
      const cs = new CompressionStream("gzip");
      const writer = cs.writable.getWriter();
      writer.write("not bytes").catch(() => {});
      let chunk;
      try { await new Response(cs.readable).arrayBuffer(); chunk = "accepted"; } catch (e) { chunk = e.constructor.name; }
      return { thrown, missing, chunk, tags: [String(cs), String(new DecompressionStream("deflate"))] };
    `);
    expect(result).toEqual({
      thrown: ["TypeError", "TypeError", "TypeError", "TypeError"],
      missing: "TypeError",
      chunk: "TypeError",
      tags: ["[object CompressionStream]", "[object DecompressionStream]"],
    });
  });
});

describe("CompressionStream chunks", () => {
  it("accepts every kind of BufferSource as a chunk, empty ones included", async () => {
    const result = await run(
      `const cs = new CompressionStream("deflate");
      const writer = cs.writable.getWriter();
      const bytes = new TextEncoder().encode("abcdefgh");
      const later = new Uint8Array([0x49, 0x4a]);
      writer.write(bytes.buffer.slice(0, 2));
      writer.write(new Int16Array(bytes.buffer.slice(2, 4)));
      writer.write(new DataView(bytes.buffer, 4, 2));
      writer.write(new Float64Array(0));
      writer.write(later);
      writer.close();
      return new Response(cs.readable);`,
    );
    expect(inflateSync(result.response.body).toString()).toBe("abcdefIJ");
  });
});

describe("compression stream bounds", () => {
  it("lets a request keep at most 16 streams open at once, and frees a slot when one finishes", async () => {
    const result = await evaluate(`
      const open = async () => {
        const cs = new CompressionStream("gzip");
        const writer = cs.writable.getWriter();
        writer.write(new Uint8Array([1])).catch(() => {});
        const reader = cs.readable.getReader();
        try { await reader.read(); return { ok: true, writer, reader }; } catch (e) { return { ok: false, error: e.constructor.name }; }
      };
      const streams = [];
      for (let i = 0; i < 17; i++) streams.push(await open());
      const refused = streams.filter((s) => !s.ok).map((s) => s.error);
      const first = streams[0];
      first.writer.close();
      while (!(await first.reader.read()).done);
      const again = await open();
      return { opened: streams.filter((s) => s.ok).length, refused, again: again.ok };
    `);
    expect(result).toEqual({ opened: 16, refused: ["TypeError"], again: true });
  });
});

describe("DecompressionStream", () => {
  it.each([
    ["gzip", gzipSync],
    ["deflate", deflateSync],
    ["deflate-raw", deflateRawSync],
  ] as const)("decompresses %s made by zlib, fed in small chunks", async (format, compress) => {
    const compressed = compress(Buffer.from(text));
    const result = await evaluate(
      `const bytes = new Uint8Array(await request.arrayBuffer());
      const ds = new DecompressionStream(${JSON.stringify(format)});
      const writer = ds.writable.getWriter();
      (async () => { for (let i = 0; i < bytes.length; i += 7) await writer.write(bytes.subarray(i, i + 7)); await writer.close(); })();
      return await new Response(ds.readable).text();`,
      compressed,
    );
    expect(result).toBe(text);
  });

  it("reads a gzip header with extra field, file name, comment and header checksum, split byte by byte", async () => {
    const body = deflateRawSync(Buffer.from("framed"));
    const { crc32 } = await import("node:zlib");
    const fixed = [0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3];
    const header = [...fixed, 2, 0, 0xaa, 0xbb, ...Buffer.from("name\0comment\0")];
    const headerCrc = crc32(Buffer.from(header)) & 0xffff;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(Buffer.from("framed")), 0);
    trailer.writeUInt32LE(6, 4);
    const member = Buffer.from([...header, headerCrc & 0xff, headerCrc >> 8, ...body, ...trailer]);
    const result = await evaluate(
      `const bytes = new Uint8Array(await request.arrayBuffer());
      const ds = new DecompressionStream("gzip");
      const writer = ds.writable.getWriter();
      (async () => { for (const b of bytes) await writer.write(new Uint8Array([b])); await writer.close(); })();
      return await new Response(ds.readable).text();`,
      member,
    );
    expect(result).toBe("framed");
  });

  it("errors with TypeError on truncated input, trailing junk (a second gzip member too), a bad checksum and data that is not compressed", async () => {
    const deflated = deflateSync(Buffer.from(text));
    const gzipped = gzipSync(Buffer.from(text));
    const cases = {
      truncated: ["deflate", [...deflated.subarray(0, deflated.length - 4)]],
      truncatedGzip: ["gzip", [...gzipped.subarray(0, gzipped.length - 4)]],
      trailing: ["deflate", [...deflated, 1, 2, 3]],
      trailingRaw: ["deflate-raw", [...deflateRawSync(Buffer.from("abc")), 0x41]],
      garbage: ["gzip", [...Buffer.from("plain text, not gzip")]],
      secondMember: ["gzip", [...gzipped, ...gzipSync(Buffer.from("more"))]],
      gzipJunk: ["gzip", [...gzipped, 0]],
      badChecksum: [
        "gzip",
        [...gzipped.subarray(0, gzipped.length - 8), 1, 2, 3, 4, ...gzipped.subarray(gzipped.length - 4)],
      ],
      headerOnly: ["gzip", [...gzipped.subarray(0, 5)]],
      empty: ["deflate", []],
    };
    const result = await evaluate(
      `const cases = await request.json();
      const out = {};
      for (const [name, [format, bytes]] of Object.entries(cases)) {
        try {
          await new Response(new Blob_([new Uint8Array(bytes)]).pipeThrough(new DecompressionStream(format))).arrayBuffer();
          out[name] = "accepted";
        } catch (e) { out[name] = e.constructor.name; }
      }
      return out;`.replace("new Blob_([new Uint8Array(bytes)])", "new Response(new Uint8Array(bytes)).body"),
      new TextEncoder().encode(JSON.stringify(cases)),
    );
    expect(result).toEqual({
      truncated: "TypeError",
      truncatedGzip: "TypeError",
      trailing: "TypeError",
      trailingRaw: "TypeError",
      garbage: "TypeError",
      secondMember: "TypeError",
      gzipJunk: "TypeError",
      badChecksum: "TypeError",
      headerOnly: "TypeError",
      empty: "TypeError",
    });
  });

  it("streams a decompression bomb through in bounded chunks when the script reads and discards it", async () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));
    const result = await evaluate(
      `const reader = request.body.pipeThrough(new DecompressionStream("deflate")).getReader();
      let total = 0, largest = 0;
      for (let i = 0; i < 100_000; i++) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength; largest = Math.max(largest, value.byteLength);
      }
      return { total, largest };`,
      bomb,
    );
    expect(result).toEqual({ total: 64 * 1024 * 1024, largest: expect.any(Number) });
    expect((result as { largest: number }).largest).toBeLessThanOrEqual(8 * 1024 * 1024);
  });

  it("ends the run at the script's memory limit when a script buffers a decompression bomb", async () => {
    const bomb = deflateSync(Buffer.alloc(160 * 1024 * 1024));
    const err = await rejectionOf(
      run(
        `const out = await new Response(request.body.pipeThrough(new DecompressionStream("deflate"))).arrayBuffer();
        return new Response(String(out.byteLength));`,
        bomb,
      ),
    );
    expect(isRunError(err) && err.code).toBe("EDGE_MEMORY_LIMIT");
  });
});
