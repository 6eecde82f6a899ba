import { afterAll, describe, expect, it } from "vitest";
import { bodyText, header, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner();
afterAll(() => runner.dispose());

async function json(source: string, request = {}, script = {}): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(runner, source, request, script)));
}

describe("Response", () => {
  it("carries status, headers and a text body back to the host", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() { return new Response("hi", { status: 201, statusText: "Created", headers: { "X-Custom": "v" } }); } }`,
    );
    expect(result.response.status).toBe(201);
    expect(header(result, "x-custom")).toBe("v");
    expect(header(result, "content-type")).toBe("text/plain;charset=UTF-8");
    expect(bodyText(result)).toBe("hi");
  });

  it("Response.json serialises the value with a JSON content type", async () => {
    const result = await runSource(
      runner,
      `export default { fetch: () => Response.json({ a: [1, "b"] }, { status: 202 }) }`,
    );
    expect(result.response.status).toBe(202);
    expect(header(result, "content-type")).toBe("application/json");
    expect(JSON.parse(bodyText(result))).toEqual({ a: [1, "b"] });
  });

  it("a null body gives an empty body and Response.redirect sets Location", async () => {
    const empty = await runSource(
      runner,
      `export default { fetch: () => new Response(null, { status: 204 }) }`,
    );
    expect(empty.response.status).toBe(204);
    expect(empty.response.body.byteLength).toBe(0);
    const redirect = await runSource(
      runner,
      `export default { fetch: () => Response.redirect("https://example.org/next", 307) }`,
    );
    expect(redirect.response.status).toBe(307);
    expect(header(redirect, "location")).toBe("https://example.org/next");
  });

  it("reads its own body back as text, JSON and bytes, and reports bodyUsed", async () => {
    const body = await json(`export default { async fetch() {
      const r = new Response('{"k":[1,2]}');
      const clone = r.clone();
      const parsed = await r.json();
      let second = "no error";
      try { await r.text(); } catch (e) { second = e.constructor.name; }
      const bytes = new Uint8Array(await clone.arrayBuffer());
      return Response.json({ parsed, used: r.bodyUsed, second, bytes: bytes.length, ok: r.ok, status: r.status });
    } }`);
    expect(body).toEqual({
      parsed: { k: [1, 2] },
      used: true,
      second: "TypeError",
      bytes: 11,
      ok: true,
      status: 200,
    });
  });

  it("rejects invalid statuses with a RangeError, as the Fetch standard says", async () => {
    const body = await json(`export default { fetch() {
      try { new Response("x", { status: 99 }); return Response.json("accepted"); }
      catch (e) { return Response.json(e.constructor.name); }
    } }`);
    expect(body).toBe("RangeError");
  });
});

describe("Request", () => {
  it("exposes the incoming method, URL, headers and text body", async () => {
    const body = await json(
      `export default { async fetch(req) {
        return Response.json({ method: req.method, url: req.url, test: req.headers.get("X-Test"), text: await req.text() });
      } }`,
      {
        method: "POST",
        url: "https://Example.COM/a b?q=1",
        headers: [
          ["X-Test", "yes"],
          ["Content-Type", "text/plain"],
        ],
        body: new TextEncoder().encode("hello body"),
      },
    );
    expect(body).toEqual({
      method: "POST",
      url: "https://example.com/a%20b?q=1",
      test: "yes",
      text: "hello body",
    });
  });

  it("round-trips a JSON body through request.json() and Response.json()", async () => {
    const payload = { name: "édge", list: [1, 2, 3], nested: { ok: true } };
    const body = await json(
      `export default { async fetch(req) { return Response.json({ echo: await req.json() }); } }`,
      {
        method: "POST",
        body: new TextEncoder().encode(JSON.stringify(payload)),
      },
    );
    expect(body).toEqual({ echo: payload });
  });

  it("round-trips a binary body byte for byte", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const result = await runSource(
      runner,
      `export default { async fetch(req) {
        const view = new Uint8Array(await req.arrayBuffer());
        return new Response(view, { headers: { "content-type": "application/octet-stream" } });
      } }`,
      { method: "PUT", body: bytes },
    );
    expect(Array.from(result.response.body)).toEqual(Array.from(bytes));
  });

  it("sends an ArrayBuffer body unchanged and a Uint8Array slice as just its window", async () => {
    const body = await json(`export default { async fetch() {
      const buffer = new Uint8Array([1, 2, 3, 4, 5]).buffer;
      const a = new Uint8Array(await new Response(buffer).arrayBuffer());
      const b = new Uint8Array(await new Response(new Uint8Array(buffer, 1, 3)).arrayBuffer());
      return Response.json([Array.from(a), Array.from(b)]);
    } }`);
    expect(body).toEqual([
      [1, 2, 3, 4, 5],
      [2, 3, 4],
    ]);
  });

  it("has immutable headers and can be rebuilt with new Request()", async () => {
    const body = await json(
      `export default { async fetch(req) {
        let error = "none";
        try { req.headers.set("x", "1"); } catch (e) { error = e.constructor.name; }
        const copy = new Request(req, { method: "POST", body: "new body", headers: { "x-copy": "1" } });
        return Response.json({ error, method: copy.method, url: copy.url, text: await copy.text(), x: copy.headers.get("x-copy") });
      } }`,
      { url: "https://example.com/r" },
    );
    expect(body).toEqual({
      error: "TypeError",
      method: "POST",
      url: "https://example.com/r",
      text: "new body",
      x: "1",
    });
  });

  it("refuses a body on GET requests", async () => {
    const body = await json(`export default { fetch() {
      try { new Request("https://example.com/", { body: "x" }); return Response.json("accepted"); }
      catch (e) { return Response.json(e.constructor.name); }
    } }`);
    expect(body).toBe("TypeError");
  });
});

describe("Headers", () => {
  it("is case-insensitive, combines repeated values and iterates sorted by name", async () => {
    const body = await json(`export default { fetch() {
      const h = new Headers([["B-Name", "1"], ["a-name", "x"]]);
      h.append("b-name", "2");
      const before = h.has("A-NAME");
      h.delete("A-Name");
      h.set("C", "3");
      return Response.json({ b: h.get("b-name"), before, after: h.has("a-name"), entries: [...h], keys: [...h.keys()], missing: h.get("zzz") });
    } }`);
    expect(body).toEqual({
      b: "1, 2",
      before: true,
      after: false,
      entries: [
        ["b-name", "1, 2"],
        ["c", "3"],
      ],
      keys: ["b-name", "c"],
      missing: null,
    });
  });

  it("keeps Set-Cookie lines apart, in the response too", async () => {
    const result = await runSource(
      runner,
      `export default { fetch() {
        const h = new Headers();
        h.append("Set-Cookie", "a=1");
        h.append("Set-Cookie", "b=2");
        return new Response(JSON.stringify(h.getSetCookie()), { headers: h });
      } }`,
    );
    expect(JSON.parse(bodyText(result))).toEqual(["a=1", "b=2"]);
    expect(result.response.headers.filter(([name]) => name === "set-cookie")).toEqual([
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
  });

  it("rejects invalid names and values with a TypeError", async () => {
    const body = await json(`export default { fetch() {
      const errors = [];
      for (const [n, v] of [["bad name", "v"], ["ok", "line\\nbreak"]]) {
        try { new Headers().set(n, v); errors.push("accepted"); } catch (e) { errors.push(e.constructor.name); }
      }
      return Response.json(errors);
    } }`);
    expect(body).toEqual(["TypeError", "TypeError"]);
  });
});
