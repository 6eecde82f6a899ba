import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { URL as ReferenceURL } from "whatwg-url";
import { bodyText, hostRequest, runSource, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

/** URL and URLSearchParams (URL Standard), parsed by the host through the urlParse/urlSet operations. */
const LIMITS = { cpuMs: 1_000, memoryMb: 128, wallMs: 10_000 };
const runner = createIsolateRunner({ maxLimits: LIMITS });
afterAll(() => runner.dispose());

async function evaluate(body: string, requestBody?: unknown): Promise<unknown> {
  const result = await runSource(
    runner,
    `export default { async fetch(request) {
      const input = request.method === "POST" ? await request.json() : null;
      const value = await (async () => { ${body} })();
      return Response.json(value === undefined ? null : value);
    } }`,
    requestBody === undefined
      ? {}
      : { method: "POST", body: new TextEncoder().encode(JSON.stringify(requestBody)) },
    { limits: LIMITS },
  );
  return JSON.parse(bodyText(result));
}

const COMPONENTS = [
  "href",
  "origin",
  "protocol",
  "username",
  "password",
  "host",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
] as const;

describe("URL", () => {
  it("parses the WPT urltestdata inputs to the same components as whatwg-url, the standard's reference implementation", async () => {
    const cases = JSON.parse(
      readFileSync(new URL("../test/fixtures/wpt/urltestdata-validity.json", import.meta.url), "utf8"),
    ) as Array<{ input: string }>;
    const inputs = cases.map((c) => c.input);
    const parsed = (await evaluate(
      `return input.map((s) => { const u = URL.parse(s); return u === null ? null : ${JSON.stringify(COMPONENTS)}.map((k) => u[k]); });`,
      inputs,
    )) as Array<string[] | null>;
    const expected = inputs.map((s) => {
      let u: ReferenceURL;
      try {
        u = new ReferenceURL(s);
      } catch {
        return null;
      }
      return COMPONENTS.map((k) => u[k]);
    });
    const disagreements = inputs.filter((_s, i) => JSON.stringify(parsed[i]) !== JSON.stringify(expected[i]));
    expect(disagreements).toEqual([]);
  });

  it("cuts up simple URLs in the isolate exactly as the host's parser does, across generated edge cases", async () => {
    let seed = 7;
    const pick = <T>(list: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return list[seed % list.length]!;
    };
    const schemes = ["http", "https", "ws", "wss", "HTTP", "ftp", "file", "blob"];
    const hosts = [
      "example.com",
      "EXAMPLE.Com",
      "a.b.",
      "1.2.3.4",
      "0x7f.1",
      "xn--nxasmq6b.com",
      "ex_ample.com",
      "a..b",
      "127.1",
      "foo.09",
      "x-.y",
      "u:p@h.com",
    ];
    const ports = ["", ":80", ":443", ":0080", ":65535", ":65536", ":8080", ":"];
    const paths = [
      "",
      "/",
      "/a/b",
      "/a/./b",
      "/a/../b",
      "/%2e/x",
      "/a%2Fb",
      "/a b",
      "/a^b",
      "/a|b",
      "/{x}",
      "/a\\b",
      "/é",
      "/a'b",
      "/.%2E/c",
      "/a/..",
      "/@:;=",
      "/~_-.",
    ];
    const queries = ["", "?", "?a=1&b=2", "?a b", "?'q'", "?x?y", "?^`{}\\", '?"', "?%zz"];
    const fragments = ["", "#", "#frag", "#a b", "#a#b", "#`x`", "#<>", "#?/"];
    const absolute = Array.from(
      { length: 1500 },
      () => `${pick(schemes)}://${pick(hosts)}${pick(ports)}${pick(paths)}${pick(queries)}${pick(fragments)}`,
    );
    const relative = Array.from({ length: 500 }, () => [
      `${pick(["/p", "//h/p", "/./x", "", "?q", "#f", "x/y", "/\\h"])}${pick(paths)}${pick(queries)}${pick(fragments)}`,
      pick([
        "https://base.example/dir/file?bq#bf",
        "http://base.example:8080/",
        "ws://base.example/x",
        "https://u@base.example/",
        "file:///srv/x",
        "not a url",
      ]),
    ]);
    const cases = [...absolute.map((input) => [input] as [string]), ...relative];
    const parsed = (await evaluate(
      `return input.map(([s, base]) => { const u = URL.parse(s, base); return u === null ? null : ${JSON.stringify(COMPONENTS)}.map((k) => u[k]); });`,
      cases,
    )) as Array<string[] | null>;
    const expected = cases.map(([s, base]) => {
      const u = URL.parse(s, base);
      return u === null ? null : COMPONENTS.map((k) => u[k]);
    });
    const disagreements = cases.filter((_c, i) => JSON.stringify(parsed[i]) !== JSON.stringify(expected[i]));
    expect(disagreements).toEqual([]);
  });

  it("resolves against a base, throws TypeError for invalid input and answers canParse and parse without throwing", async () => {
    const result = await evaluate(`
      const errors = [() => new URL("nope"), () => new URL(), () => new URL("/p", "also-nope"), () => URL.canParse()].map((f) => {
        try { f(); return "accepted"; } catch (e) { return e.constructor.name; }
      });
      return { resolved: new URL("../a?b#c", "https://ex.com/x/y/z").href, viaUrl: new URL("q", new URL("https://ex.com/d/")).href,
        errors, canParse: [URL.canParse("https://x"), URL.canParse("x"), URL.canParse("x", "https://y/")],
        parse: [URL.parse("nope"), URL.parse("/a", "https://b/").href], json: JSON.stringify({ u: new URL("https://ex.com") }),
        idn: new URL("https://ÉXAMPLE.com/ä?ö#ü").href, tag: Object.prototype.toString.call(new URL("https://a")) };
    `);
    expect(result).toEqual({
      resolved: "https://ex.com/x/a?b#c",
      viaUrl: "https://ex.com/d/q",
      errors: ["TypeError", "TypeError", "TypeError", "TypeError"],
      canParse: [true, false, true],
      parse: [null, "https://b/a"],
      json: '{"u":"https://ex.com/"}',
      idn: "https://xn--xample-9ua.com/%C3%A4?%C3%B6#%C3%BC",
      tag: "[object URL]",
    });
  });

  it("runs setters as the standard says, ignoring invalid values, and throws TypeError for an invalid href", async () => {
    const result = await evaluate(`
      const u = new URL("https://user:pw@ex.com:8080/p?q=1#h");
      u.protocol = "http"; u.port = "80"; u.hostname = "other.org"; u.pathname = "a b"; u.hash = "";
      u.username = "ü"; u.port = "99999"; u.protocol = "mailto";
      let hrefError;
      try { u.href = "::"; hrefError = "accepted"; } catch (e) { hrefError = e.constructor.name; }
      return { href: u.href, origin: u.origin, hrefError };
    `);
    expect(result).toEqual({
      href: "http://%C3%BC:pw@other.org/a%20b?q=1",
      origin: "http://other.org",
      hrefError: "TypeError",
    });
  });

  it("keeps searchParams and the URL's query in step both ways", async () => {
    const result = await evaluate(`
      const u = new URL("https://ex.com/?a=1&b=2&a=3#f");
      const params = u.searchParams;
      params.append("c", "x y");
      params.delete("b");
      const afterEdit = u.href;
      u.search = "?z=9";
      const afterSearch = [...params];
      params.delete("z");
      return { afterEdit, afterSearch, cleared: u.href, same: u.searchParams === params };
    `);
    expect(result).toEqual({
      afterEdit: "https://ex.com/?a=1&a=3&c=x+y#f",
      afterSearch: [["z", "9"]],
      cleared: "https://ex.com/#f",
      same: true,
    });
  });

  it("may be used by top-level code while an isolate is built ahead of its request", async () => {
    const pooled = createIsolateRunner({ maxLimits: LIMITS, warmIsolates: 2 });
    try {
      const prepared = await pooled.prepare(
        workerScript(
          `const base = new URL("https://api.example/v1/");
          export default { fetch: (request) => new Response(new URL("items?id=" + new URL(request.url).searchParams.get("x"), base).href) };`,
          { limits: LIMITS },
        ),
      );
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) bodies.push(bodyText(await pooled.run(prepared, hostRequest())));
      expect(bodies).toEqual(Array(3).fill("https://api.example/v1/items?id=1"));
    } finally {
      await pooled.dispose();
    }
  });

  it("prints what 1,000 URL parses cost a script in a fresh isolate", async () => {
    const result = (await evaluate(`
      const started = Date.now();
      let n = 0;
      for (let i = 0; i < 1000; i++) n += new URL("/path/" + i + "?q=" + i + "#h", "https://example.com/base/").pathname.length;
      return { ms: Date.now() - started, n };
    `)) as { ms: number; n: number };
    process.stdout.write(`url: 1,000 parses in a fresh isolate: ${result.ms.toFixed(2)} ms\n`);
    expect(result.n).toBeGreaterThan(0);
  });
});

describe("URLSearchParams", () => {
  it("takes a query string, a sequence of pairs, a record or another URLSearchParams", async () => {
    const result = await evaluate(`
      const list = (p) => [...p];
      return {
        string: list(new URLSearchParams("?a=1&b=%F0%9F%98%80&c+d=e+f&&=g&h")),
        pairs: list(new URLSearchParams([["x", 1], ["x", "\\ud800"]])),
        record: list(new URLSearchParams({ k: "v", n: 2 })),
        copy: list(new URLSearchParams(new URLSearchParams("a=b"))),
        nul: list(new URLSearchParams(null)),
        repeated: list(new URLSearchParams({ "\ud835x": "1", xx: "2", "\ud83dx": "3" })),
        custom: (() => { const p = new URLSearchParams("z=0"); p[Symbol.iterator] = function* () { yield ["a", "b"]; }; return list(new URLSearchParams(p)); })(),
        constants: new URLSearchParams(DOMException).get("DATA_CLONE_ERR"),
      };
    `);
    expect(result).toEqual({
      string: [
        ["a", "1"],
        ["b", "\u{1f600}"],
        ["c d", "e f"],
        ["", "g"],
        ["h", ""],
      ],
      pairs: [
        ["x", "1"],
        ["x", "\ufffd"],
      ],
      record: [
        ["k", "v"],
        ["n", "2"],
      ],
      copy: [["a", "b"]],
      nul: [["null", ""]],
      repeated: [
        ["\ufffdx", "3"],
        ["xx", "2"],
      ],
      custom: [["a", "b"]],
      constants: "25",
    });
  });

  it("throws TypeError for pairs that are not two items and for missing arguments", async () => {
    const result = await evaluate(`
      return [() => new URLSearchParams([["a"]]), () => new URLSearchParams([1]), () => new URLSearchParams().append("a"),
        () => new URLSearchParams().get(), () => new URLSearchParams().forEach(1)].map((f) => {
        try { f(); return "accepted"; } catch (e) { return e.constructor.name; }
      });
    `);
    expect(result).toEqual(Array(5).fill("TypeError"));
  });

  it("gets, sets, deletes by name and value, sorts stably by code units and serializes as form-urlencoded", async () => {
    const result = await evaluate(`
      const p = new URLSearchParams("b=1&a=2&b=3&c=4&a=5");
      const before = { get: p.get("b"), all: p.getAll("a"), has: [p.has("c"), p.has("c", "5"), p.has("z")], size: p.size, missing: p.get("z") };
      p.set("b", "x");
      p.delete("a", "5");
      p.append("\\ufffd", "é ~*");
      p.append("\\u00e9", "");
      p.sort();
      const seen = [];
      p.forEach((value, name) => seen.push(name + "=" + value));
      return { before, after: p.toString(), seen, keys: [...p.keys()], values: [...p.values()] };
    `);
    expect(result).toEqual({
      before: { get: "1", all: ["2", "5"], has: [true, false, false], size: 5, missing: null },
      after: "a=2&b=x&c=4&%C3%A9=&%EF%BF%BD=%C3%A9+%7E*",
      seen: ["a=2", "b=x", "c=4", "é=", "\ufffd=é ~*"],
      keys: ["a", "b", "c", "é", "\ufffd"],
      values: ["2", "x", "4", "", "é ~*"],
    });
  });
});
