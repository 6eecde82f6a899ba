import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

/** TextEncoder/TextDecoder and their streams, after the WHATWG Encoding Standard and WPT encoding/*.any.js. */
const runner = createIsolateRunner({ maxLimits: { cpuMs: 1_000, memoryMb: 128, wallMs: 10_000 } });
afterAll(() => runner.dispose());

const LIMITS = { cpuMs: 1_000, memoryMb: 128, wallMs: 10_000 };

async function evaluate(body: string, requestBody?: Uint8Array): Promise<unknown> {
  const result = await runSource(
    runner,
    `export default { async fetch(request) {
      const value = await (async () => { ${body} })();
      return Response.json(value === undefined ? null : value);
    } }`,
    requestBody === undefined ? {} : { method: "POST", body: requestBody },
    { limits: LIMITS },
  );
  return JSON.parse(bodyText(result));
}

describe("TextDecoder labels", () => {
  it("maps labels to the standard's encoding names, ignoring ASCII case and ASCII whitespace", async () => {
    const result = await evaluate(`
      const labels = ["UTF8", " utf-8\\n", "latin1", "ascii", "ISO-8859-1", "us-ascii", "utf-16", "UTF-16BE",
        "unicodefffe", "l2", "iso8859-15", "koi8", "koi8-u", "mac", "x-mac-cyrillic", "cp866", "dos-874",
        "cp1250", "windows-1258", "sjis", "gb2312", "big5-hkscs", "csiso2022jp", "x-user-defined"];
      return labels.map((label) => new TextDecoder(label).encoding);
    `);
    expect(result).toEqual([
      "utf-8",
      "utf-8",
      "windows-1252",
      "windows-1252",
      "windows-1252",
      "windows-1252",
      "utf-16le",
      "utf-16be",
      "utf-16be",
      "iso-8859-2",
      "iso-8859-15",
      "koi8-r",
      "koi8-u",
      "macintosh",
      "x-mac-cyrillic",
      "ibm866",
      "windows-874",
      "windows-1250",
      "windows-1258",
      "shift_jis",
      "gbk",
      "big5",
      "iso-2022-jp",
      "x-user-defined",
    ]);
  });

  it("throws RangeError for unknown labels, the replacement encoding and non-ASCII whitespace", async () => {
    const result = await evaluate(`
      return ["utf-9", "iso-2022-kr", "replacement", "hz-gb-2312", "\\u00a0utf-8", "\\vutf-8", "", "utf-16x"].map((label) => {
        try { new TextDecoder(label); return "accepted"; } catch (e) { return e.constructor.name; }
      });
    `);
    expect(result).toEqual(Array(8).fill("RangeError"));
  });

  it("rejects options that are not dictionaries with TypeError and reads fatal and ignoreBOM as booleans", async () => {
    const result = await evaluate(`
      const errors = [() => new TextDecoder("utf-8", 1), () => new TextDecoder().decode(new Uint8Array(1), "x"),
        () => new TextDecoder().decode("string"), () => new TextEncoder().encode(Symbol())].map((f) => {
        try { f(); return "accepted"; } catch (e) { return e.constructor.name; }
      });
      const d = new TextDecoder("latin1", { fatal: 1, ignoreBOM: "" });
      return { errors, flags: [d.fatal, d.ignoreBOM, new TextDecoder(undefined, null).encoding],
        tags: [String(new TextDecoder()), String(new TextEncoder())],
        getters: ["encoding", "fatal", "ignoreBOM"].map((k) => typeof Object.getOwnPropertyDescriptor(TextDecoder.prototype, k).get) };
    `);
    expect(result).toEqual({
      errors: ["TypeError", "TypeError", "TypeError", "TypeError"],
      flags: [true, false, "utf-8"],
      tags: ["[object TextDecoder]", "[object TextEncoder]"],
      getters: ["function", "function", "function"],
    });
  });
});

describe("TextDecoder decoding", () => {
  it("decodes the single-byte encodings with the standard's index tables", async () => {
    const result = await evaluate(`
      const decode = (label, bytes) => [...new TextDecoder(label).decode(new Uint8Array(bytes))].map((c) => c.codePointAt(0));
      return {
        w1252: decode("windows-1252", [0x41, 0x80, 0x81, 0x9f, 0xff]),
        latin2: decode("iso-8859-2", [0xa1, 0xff]),
        koi8r: decode("koi8-r", [0xc1, 0xff]),
        ibm866: decode("ibm866", [0x80, 0xff]),
        mac: decode("macintosh", [0x80, 0xdb]),
        maccyr: decode("x-mac-cyrillic", [0x80, 0xff]),
        w874: decode("windows-874", [0x80, 0xa1]),
        w1251: decode("windows-1251", [0xc0, 0xff]),
        user: decode("x-user-defined", [0x41, 0x80, 0xff]),
      };
    `);
    expect(result).toEqual({
      w1252: [0x41, 0x20ac, 0x81, 0x178, 0xff],
      latin2: [0x104, 0x2d9],
      koi8r: [0x430, 0x42a],
      ibm866: [0x410, 0xa0],
      mac: [0xc4, 0x20ac],
      maccyr: [0x410, 0x20ac],
      w874: [0x20ac, 0xe01],
      w1251: [0x410, 0x44f],
      user: [0x41, 0xf780, 0xf7ff],
    });
  });

  it("replaces bytes a single-byte encoding leaves unmapped, or throws TypeError when fatal", async () => {
    const result = await evaluate(`
      const loose = new TextDecoder("iso-8859-3").decode(new Uint8Array([0x41, 0xa5, 0x42]));
      let fatal;
      try { new TextDecoder("iso-8859-3", { fatal: true }).decode(new Uint8Array([0xa5])); fatal = "accepted"; }
      catch (e) { fatal = e.constructor.name; }
      return { loose, fatal };
    `);
    expect(result).toEqual({ loose: "A\ufffdB", fatal: "TypeError" });
  });

  it("decodes UTF-16LE and UTF-16BE with BOM handling, streaming across split code units and surrogate pairs", async () => {
    const result = await evaluate(`
      const le = new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0x3d, 0xd8, 0x00, 0xde]);
      const be = new Uint8Array([0xfe, 0xff, 0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00]);
      const streamed = new TextDecoder("utf-16le");
      let text = "";
      for (const b of le) text += streamed.decode(new Uint8Array([b]), { stream: true });
      text += streamed.decode();
      const odd = new TextDecoder("utf-16le").decode(new Uint8Array([0x41, 0x00, 0x42]));
      let fatal;
      try { new TextDecoder("utf-16be", { fatal: true }).decode(new Uint8Array([0xd8, 0x3d])); fatal = "accepted"; }
      catch (e) { fatal = e.constructor.name; }
      return {
        le: new TextDecoder("utf-16le").decode(le),
        be: new TextDecoder("utf-16be").decode(be),
        keepBom: new TextDecoder("utf-16le", { ignoreBOM: true }).decode(le).codePointAt(0),
        streamed: text, odd, fatal,
      };
    `);
    expect(result).toEqual({
      le: "A\u{1f600}",
      be: "A\u{1f600}",
      keepBom: 0xfeff,
      streamed: "A\u{1f600}",
      odd: "A\ufffd",
      fatal: "TypeError",
    });
  });

  it("decodes a legacy multi-byte encoding (Shift_JIS) from its lazily loaded tables", async () => {
    const result = await evaluate(`
      return [new TextDecoder("shift_jis").decode(new Uint8Array([0x82, 0xa0, 0x41])),
        new TextDecoder("euc-kr").decode(new Uint8Array([0xb0, 0xa1]))];
    `);
    expect(result).toEqual(["\u3042A", "\uac00"]);
  });

  it("keeps UTF-8 streaming state, BOM stripping and fatal errors as the standard says", async () => {
    const result = await evaluate(`
      const d = new TextDecoder();
      const bytes = [0xef, 0xbb, 0xbf, 0xf0, 0x9f, 0x98, 0x80, 0x41];
      let text = "";
      for (const b of bytes) text += d.decode(new Uint8Array([b]), { stream: true });
      text += d.decode();
      const loose = new TextDecoder().decode(new Uint8Array([0xf0, 0x9f, 0x41, 0xc0, 0x80]));
      let fatal;
      try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])); fatal = "accepted"; }
      catch (e) { fatal = e.constructor.name; }
      return { text, loose, fatal, shared: new TextDecoder().decode(new DataView(new Uint8Array([104, 105]).buffer)) };
    `);
    expect(result).toEqual({
      text: "\u{1f600}A",
      loose: "\ufffdA\ufffd\ufffd",
      fatal: "TypeError",
      shared: "hi",
    });
  });
});

describe("TextDecoder UTF-8 on long input", () => {
  it("decodes long ASCII runs mixed with multi-byte sequences, a BOM and sequences split across stream calls", async () => {
    const text = `\ufeff${"a".repeat(20_000)}é${"b".repeat(9_000)}😀${"c".repeat(17)}€`;
    const result = await evaluate(
      `const bytes = new Uint8Array(await request.arrayBuffer());
      const whole = new TextDecoder().decode(bytes);
      const d = new TextDecoder();
      let streamed = "";
      for (let i = 0; i < bytes.length; i += 4_999) streamed += d.decode(bytes.subarray(i, i + 4_999), { stream: true });
      streamed += d.decode();
      const kept = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
      return { same: whole === streamed, length: whole.length, first: whole.charCodeAt(0), kept: kept.charCodeAt(0), tail: whole.slice(-20) };`,
      new TextEncoder().encode(text),
    );
    expect(result).toEqual({
      same: true,
      length: text.length - 1,
      first: 0x61,
      kept: 0xfeff,
      tail: `${"b".repeat(0)}😀${"c".repeat(17)}€`.slice(-20),
    });
  });
});

describe("TextEncoder.encodeInto", () => {
  it("writes only whole code points that fit and reports UTF-16 units read and bytes written", async () => {
    const result = await evaluate(`
      const e = new TextEncoder();
      const run = (s, n) => { const d = new Uint8Array(n); const r = e.encodeInto(s, d); return [r.read, r.written, [...d]]; };
      let notUint8;
      try { e.encodeInto("a", new Uint16Array(2)); notUint8 = "accepted"; } catch (err) { notUint8 = err.constructor.name; }
      return { ascii: run("abc", 2), pair: run("a\\u{1f600}", 4), fits: run("a\\u{1f600}", 5), lone: run("\\ud800x", 4), notUint8 };
    `);
    expect(result).toEqual({
      ascii: [2, 2, [97, 98]],
      pair: [1, 1, [97, 0, 0, 0]],
      fits: [3, 5, [97, 0xf0, 0x9f, 0x98, 0x80]],
      lone: [2, 4, [0xef, 0xbf, 0xbd, 0x78]],
      notUint8: "TypeError",
    });
  });
});

describe("TextEncoderStream and TextDecoderStream", () => {
  it("round-trips a body through TextDecoderStream and TextEncoderStream, pairing surrogates across chunks", async () => {
    const result = await evaluate(`
      const enc = new TextEncoderStream();
      const writer = enc.writable.getWriter();
      writer.write("a\\ud83d"); writer.write("\\ude00b"); writer.write("\\ud800"); writer.close();
      const bytes = new Uint8Array(await new Response(enc.readable).arrayBuffer());
      const body = new Response(new Uint8Array([0xe2, 0x82, 0xac, 0x41])).body;
      const chunks = [];
      const reader = body.pipeThrough(new TextDecoderStream()).getReader();
      for (let i = 0; i < 10; i++) { const { done, value } = await reader.read(); if (done) break; chunks.push(value); }
      const roundTrip = await new Response(new Response("h\\u00e9llo").body
        .pipeThrough(new TextDecoderStream()).pipeThrough(new TextEncoderStream())).text();
      const d = new TextDecoderStream("latin1", { fatal: true });
      return { bytes: [...bytes], chunks, roundTrip, props: [d.encoding, d.fatal, d.ignoreBOM, new TextEncoderStream().encoding],
        tags: [String(d), String(enc)] };
    `);
    expect(result).toEqual({
      bytes: [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62, 0xef, 0xbf, 0xbd],
      chunks: ["\u20acA"],
      roundTrip: "h\u00e9llo",
      props: ["windows-1252", true, false, "utf-8"],
      tags: ["[object TextDecoderStream]", "[object TextEncoderStream]"],
    });
  });

  it("reads a detached buffer as empty and refuses shared memory in TextDecoderStream with TypeError", async () => {
    const result = await evaluate(`
      const buffer = new Uint8Array([65, 66]).buffer;
      const view = new Uint8Array(buffer);
      structuredClone(buffer, { transfer: [buffer] });
      const detached = [new TextDecoder().decode(buffer), new TextDecoder().decode(view)];
      let shared = "no SharedArrayBuffer";
      if (typeof SharedArrayBuffer === "function") {
        const tds = new TextDecoderStream();
        const writer = tds.writable.getWriter();
        writer.write(new Uint8Array(new SharedArrayBuffer(1))).catch(() => {});
        try { await tds.readable.getReader().read(); shared = "accepted"; } catch (e) { shared = e.constructor.name; }
      }
      return { detached, shared, sharedDecode: typeof SharedArrayBuffer === "function" ? new TextDecoder().decode(new SharedArrayBuffer(1)) : "\u0000" };
    `);
    expect(result).toEqual({
      detached: ["", ""],
      shared: expect.stringMatching(/^(TypeError|no SharedArrayBuffer)$/),
      sharedDecode: "\u0000",
    });
  });

  it("errors TextDecoderStream with TypeError on a non-BufferSource chunk and on invalid input when fatal", async () => {
    const result = await evaluate(`
      const outcome = async (stream, chunk) => {
        const writer = stream.writable.getWriter();
        writer.write(chunk).catch(() => {}); writer.close().catch(() => {});
        try { await new Response(stream.readable).text(); return "accepted"; } catch (e) { return e.constructor.name; }
      };
      return [await outcome(new TextDecoderStream(), "text"), await outcome(new TextDecoderStream("utf-8", { fatal: true }), new Uint8Array([0xff])),
        await outcome(new TextEncoderStream(), Symbol())];
    `);
    expect(result).toEqual(["TypeError", "TypeError", "TypeError"]);
  });
});
