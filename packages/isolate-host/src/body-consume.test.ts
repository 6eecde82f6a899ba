import { afterAll, describe, expect, it } from "vitest";
import { bodyText, header, runSource } from "../test/helpers.js";
import { ROOMY_LIMITS, scriptValue, THROWN } from "../test/script-value.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: ROOMY_LIMITS });
afterAll(() => runner.dispose());
const value = (body: string, request = {}) => scriptValue(runner, body, request);
const ENTRIES = `const entries = async (fd) => Promise.all([...fd].map(async ([k, v]) => [k, typeof v === "string" ? v : [v.name, v.type, await v.text()]]));`;

const encoder = new TextEncoder();
const MULTIPART = [
  "--XyZ\r\n",
  'Content-Disposition: form-data; name="file"; filename="a \\"b\\".txt"\r\n',
  "Content-Type: text/markdown\r\n\r\n",
  "# line one\r\nline two\r\n",
  "--XyZ\r\n",
  'content-disposition: form-data; name="field"\r\n\r\n',
  "välue\r\n",
  "--XyZ--\r\n",
].join("");

describe("Request/Response formData()", () => {
  it("parses an incoming multipart/form-data request with a quoted boundary, files and fields", async () => {
    const result = await value(`${ENTRIES} return entries(await request.formData());`, {
      method: "POST",
      headers: [["content-type", 'multipart/form-data; boundary="XyZ"']],
      body: encoder.encode(MULTIPART),
    });
    expect(result).toEqual([
      ["file", ['a "b".txt', "text/markdown", "# line one\r\nline two"]],
      ["field", "välue"],
    ]);
  });

  it("parses application/x-www-form-urlencoded with '+', percent escapes and empty pairs", async () => {
    const result = await value(`return [...(await request.formData())];`, {
      method: "POST",
      headers: [["content-type", "application/x-www-form-urlencoded;charset=UTF-8"]],
      body: encoder.encode("a=1&&b=h%C3%A9+llo&c&d=%zz&a=2"),
    });
    expect(result).toEqual([
      ["a", "1"],
      ["b", "hé llo"],
      ["c", ""],
      ["d", "%zz"],
      ["a", "2"],
    ]);
  });

  it("round-trips a FormData body with a file part through Response and Request", async () => {
    expect(
      await value(`${ENTRIES} const fd = new FormData();
        fd.append("name", "line1\\nline2"); fd.append('we"ird', new File(["file body"], "up\\nload.bin", { type: "application/x-thing" }));
        fd.append("blob", new Blob(["b"]));
        const response = new Response(fd);
        const type = response.headers.get("content-type");
        const request = new Request("https://example.com/", { method: "POST", body: fd });
        return [/^multipart\\/form-data; boundary=[-\\w]+$/.test(type), await entries(await response.formData()),
          (await entries(await request.formData())).length];`),
    ).toEqual([
      true,
      [
        ["name", "line1\r\nline2"],
        ['we"ird', ["up\nload.bin", "application/x-thing", "file body"]],
        ["blob", ["blob", "application/octet-stream", "b"]],
      ],
      3,
    ]);
  });

  it("keeps a binary file part byte for byte, CR, LF and dashes included", async () => {
    expect(
      await value(`const bytes = new Uint8Array(4096).map((_, i) => i % 256); bytes.set([13, 10, 45, 45], 100);
        const fd = new FormData(); fd.append("bin", new File([bytes], "b.bin")); fd.append("after", "x");
        const back = await new Response(fd).formData(); const file = back.get("bin");
        const got = new Uint8Array(await file.arrayBuffer());
        return [file.size, got.every((b, i) => b === bytes[i]), back.get("after")];`),
    ).toEqual([4096, true, "x"]);
  });

  it("reads multipart header names and the boundary case-insensitively where the standard says so", async () => {
    expect(
      await value(`const fd = new FormData(); fd.append("foo", new Blob(['{"bar":"baz"}'], { type: "application/json" }));
        let blob = await new Response(fd).blob(); const text = await blob.text();
        blob = new Blob([text.toLowerCase()], { type: blob.type.toLowerCase() });
        const parsed = await new Response(blob).formData();
        return [parsed.has("foo"), parsed.get("foo").type];`),
    ).toEqual([true, "application/json"]);
  });

  it("rejects with TypeError for a wrong content type, a missing boundary and a malformed multipart body", async () => {
    expect(
      await value(`${THROWN}
        const mp = (body, type = "multipart/form-data; boundary=b") => new Response(body, { headers: { "content-type": type } }).formData();
        return [await thrown(() => new Response("a=1").formData()), await thrown(() => mp("", "multipart/form-data")),
          await thrown(() => mp("garbage")), await thrown(() => mp("--b\\r\\nContent-Disposition: form-data; name=x\\r\\n\\r\\nunterminated")),
          await thrown(() => mp("--b\\r\\nContent-Type: text/plain\\r\\n\\r\\nv\\r\\n--b--")),
          await thrown(() => new Response().formData()),
          [...(await new Response("", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData())].length,
          [...(await mp("--b--\\r\\n"))].length];`),
    ).toEqual(["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", 0, 0]);
  });
});

describe("bodies from Blob, FormData, URLSearchParams and views", () => {
  it("sets the content type from the init and keeps an explicit one", async () => {
    expect(
      await value(`const ct = (body, headers) => new Response(body, { headers }).headers.get("content-type");
        return [ct(new Blob(["x"], { type: "text/a" })), ct(new Blob(["x"])), ct(new URLSearchParams("a=1")), ct("s"),
          ct(new Uint8Array(1)), ct(new Blob(["x"], { type: "text/a" }), { "content-type": "text/b" })];`),
    ).toEqual([
      "text/a",
      null,
      "application/x-www-form-urlencoded;charset=UTF-8",
      "text/plain;charset=UTF-8",
      null,
      "text/b",
    ]);
  });

  it("blob() carries the body's MIME type and bytes; views, DataViews and ArrayBuffers give their own bytes", async () => {
    expect(
      await value(`const b = await new Response("héllo", { headers: { "content-type": "Text/Plain; Charset=UTF-8" } }).blob();
        const view = new Uint16Array([0x4241, 0x4443]).subarray(1);
        return [b.type, b.size, await b.text(), b instanceof Blob, await new Response(view).text(),
          await new Response(new DataView(new Uint8Array([65, 66, 67]).buffer, 1)).text(), await new Response(new Uint8Array([65]).buffer).text()];`),
    ).toEqual(["text/plain;charset=UTF-8", 6, "héllo", true, "CD", "BC", "A"]);
  });
});

describe("what leaves the isolate", () => {
  it("a FormData response goes out as multipart with its boundary in the content type", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() { const fd = new FormData(); fd.append("a", "1");
        fd.append("f", new File(["data"], "f.txt", { type: "text/plain" })); return new Response(fd); } };`,
      {},
      { limits: ROOMY_LIMITS },
    );
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(header(result, "content-type") ?? "")?.[1];
    expect(boundary).toBeDefined();
    expect(bodyText(result)).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\ndata\r\n` +
        `--${boundary}--\r\n`,
    );
  });

  it("a Blob response goes out with the blob's type and bytes", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() { return new Response(new Blob(["ab", "cd"], { type: "text/x-demo" })); } };`,
      {},
      { limits: ROOMY_LIMITS },
    );
    expect(header(result, "content-type")).toBe("text/x-demo");
    expect(bodyText(result)).toBe("abcd");
  });
});

describe("Request structure", () => {
  it("has every attribute and body method of the Fetch standard's Request", async () => {
    expect(
      await value(`const request = new Request("https://example.com/");
        return [["clone", "arrayBuffer", "blob", "formData", "json", "text", "bytes"].every((m) => typeof request[m] === "function"),
          ["method", "url", "headers", "destination", "referrer", "referrerPolicy", "mode", "credentials", "cache", "redirect",
           "integrity", "isReloadNavigation", "isHistoryNavigation", "duplex", "signal", "body", "bodyUsed", "keepalive"].filter((a) => !(a in request)),
          request.destination, request.mode, request.credentials, request.cache, request.referrer, request.body, request.bodyUsed];`),
    ).toEqual([true, [], "", "cors", "same-origin", "default", "about:client", null, false]);
  });
});

describe("bodyUsed, locked streams and clone()", () => {
  it("a body read once, or whose stream is locked or disturbed, rejects with TypeError", async () => {
    expect(
      await value(`${THROWN} const used = new Response("x"); await used.text();
        const locked = new Response("x"); locked.body.getReader();
        const stream = new ReadableStream({ pull(c) { c.enqueue(new Uint8Array([1])); c.close(); } });
        const reader = stream.getReader(); await reader.read(); reader.releaseLock();
        return [used.bodyUsed, await thrown(() => used.text()), await thrown(() => used.formData()), await thrown(() => used.blob()),
          await thrown(() => locked.arrayBuffer()), await thrown(() => new Response(stream)), await thrown(() => used.clone()),
          await thrown(() => new Request("https://a.example/", { method: "POST", body: "x" }).clone().text())];`),
    ).toEqual([true, "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "none"]);
  });

  it("clone() of a stream body leaves both readable; the clone's chunks are copies of the same type", async () => {
    expect(
      await value(`const chunk = new Int16Array([1, 2]);
        const response = new Response(new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } }));
        const clone = response.clone();
        const a = await response.body.getReader().read(), b = await clone.body.getReader().read();
        const req = new Request("https://a.example/", { method: "POST", body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("body")); c.close(); } }) });
        const reqClone = req.clone();
        return [a.value === chunk, b.value.constructor.name, b.value !== chunk, b.value.buffer !== chunk.buffer, [...b.value],
          await req.text(), await reqClone.text()];`),
    ).toEqual([true, "Int16Array", true, true, [1, 2], "body", "body"]);
  });

  it("a body's stream is a byte stream: a BYOB reader reads it in pieces, a default reader in one chunk", async () => {
    expect(
      await value(`const reader = new Response("hello world").body.getReader({ mode: "byob" });
        const parts = [];
        for (;;) { const { done, value } = await reader.read(new Uint8Array(4)); if (done) break; parts.push(new TextDecoder().decode(value)); }
        const chunk = (await new Response(new Blob(["blob body"])).body.getReader().read()).value;
        return [parts, chunk.constructor.name, new TextDecoder().decode(chunk)];`),
    ).toEqual([["hell", "o wo", "rld"], "Uint8Array", "blob body"]);
  });

  it("clone() of a bytes body is independent: writing to one's stream chunk leaves the other as it was", async () => {
    expect(
      await value(`const response = new Response("abc"); const clone = response.clone();
        const { value: chunk } = await response.body.getReader().read(); chunk[0] = 0x7a;
        return [new TextDecoder().decode(chunk), await clone.text()];`),
    ).toEqual(["zbc", "abc"]);
  });

  it("cancelling one clone's stream leaves the other readable", async () => {
    expect(
      await value(`const response = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("kept")); c.close(); } }));
        const clone = response.clone();
        // As the standard's tee: one branch's cancel() settles once the other branch is done too.
        const cancelled = response.body.cancel("gone");
        const text = await clone.text(); await cancelled;
        return [text, response.bodyUsed];`),
    ).toEqual(["kept", true]);
  });

  it("Response.error() and Response.redirect() have immutable headers, and clone() keeps that guard", async () => {
    expect(
      await value(`${THROWN} const error = Response.error(); const redirect = Response.redirect("https://a.example/", 301);
        return [error.type, error.status, await thrown(() => error.headers.set("a", "b")), redirect.headers.get("location"),
          await thrown(() => redirect.headers.append("a", "b")), await thrown(() => redirect.clone().headers.delete("location")),
          await thrown(() => Response.json({}).headers.set("x", "y"))];`),
    ).toEqual(["error", 0, "TypeError", "https://a.example/", "TypeError", "TypeError", "none"]);
  });
});
