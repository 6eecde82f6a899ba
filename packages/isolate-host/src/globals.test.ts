import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, runSource, TEST_LIMITS, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

/** Everything the runner writes to its host logger, to prove script output stays out of it. */
const hostLog: string[] = [];
const logger = pino(
  { level: "trace" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      hostLog.push(chunk.toString());
      done();
    },
  }),
);
// Room above the scripts' own limits (TEST_LIMITS), for the test below that loads tr46's tables.
const runner = createIsolateRunner({ logger, maxLimits: { cpuMs: 1_000, memoryMb: 128, wallMs: 30_000 } });
afterAll(() => runner.dispose());

async function json(source: string, request = {}, script = {}): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(runner, source, request, script)));
}

describe("URL, URLSearchParams, TextEncoder and TextDecoder", () => {
  it("parse and serialise URLs as the WHATWG URL standard does", async () => {
    const body = await json(`export default { fetch(req) {
      const u = new URL("../b?x=1&y=a+b#frag", "https://Example.COM/a/c");
      u.searchParams.append("z", "é");
      const idn = new URL("http://Bücher.de/").host;
      let invalid = "accepted";
      try { new URL("not a url"); } catch (e) { invalid = e.constructor.name; }
      const params = new URLSearchParams({ k: "v w" });
      return Response.json({ href: u.href, y: u.searchParams.get("y"), idn, invalid, params: params.toString(),
        reqPath: new URL(req.url).pathname });
    } }`);
    expect(body).toEqual({
      href: "https://example.com/b?x=1&y=a+b&z=%C3%A9#frag",
      y: "a b",
      idn: "xn--bcher-kva.de",
      invalid: "TypeError",
      params: "k=v+w",
      reqPath: "/path",
    });
  });

  it("parse host names exactly as Node's own WHATWG URL parser does", async () => {
    // Covers the ASCII fast path in front of tr46 and the full UTS #46 path behind it.
    const inputs = [
      "http://EXAMPLE.com/",
      "http://a-b.c-d.example/",
      "http://xn--bcher-kva.de/",
      "http://Bücher.DE/",
      "http://faß.de/",
      "http://EXAMPLE.xn--p1ai/",
      "http://xn--a.com/",
      "http://192.168.0.1/",
      "http://0x7f.1/",
      "http://foo..bar/",
      "http://-lead.example/",
      "http://a_b.example/",
      "http://ex%41mple.com/",
      "http://ex ample.com/",
      "http://[::1]/",
      "http://a.b.c.d.e/",
    ];
    const body = await json(
      `export default { fetch() {
        const inputs = ${JSON.stringify(inputs)};
        return Response.json(inputs.map((input) => { try { return new URL(input).host; } catch { return "invalid"; } }));
      } }`,
      {},
      // Building tr46's Unicode tables takes milliseconds of CPU; isolated-vm's clock counts wall
      // time while the isolate runs, so a loaded machine could stretch that past 50 ms.
      { limits: { ...TEST_LIMITS, cpuMs: 1_000 } },
    );
    const expected = inputs.map((input) => {
      try {
        return new URL(input).host;
      } catch {
        return "invalid";
      }
    });
    expect(body).toEqual(expected);
  });

  it("encode and decode UTF-8, with replacement or a TypeError on bad input", async () => {
    const body = await json(`export default { fetch() {
      const bytes = new TextEncoder().encode("héllo€😀");
      const text = new TextDecoder().decode(bytes);
      const lossy = new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xe2, 0x82, 0x62]));
      let fatal = "accepted";
      try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xc3])); } catch (e) { fatal = e.constructor.name; }
      const streamed = new TextDecoder();
      const joined = streamed.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + streamed.decode(new Uint8Array([0xac]));
      return Response.json({ length: bytes.length, text, lossy, fatal, joined });
    } }`);
    expect(body).toEqual({
      length: 13,
      text: "héllo€😀",
      lossy: "a\uFFFD\uFFFDb",
      fatal: "TypeError",
      joined: "€",
    });
  });
});

describe("env, console and ctx", () => {
  it("passes the script's vars as env", async () => {
    const body = await json(
      `export default { fetch: (req, env) => Response.json({ greeting: env.GREETING, keys: Object.keys(env) }) }`,
      {},
      { vars: { GREETING: "hello", OTHER: "x" } },
    );
    expect(body).toEqual({ greeting: "hello", keys: ["GREETING", "OTHER"] });
  });

  it("returns console output as log lines and keeps it out of the host log", async () => {
    const result = await runSource(
      runner,
      `console.log("top-level line");
      export default { fetch() {
        globalThis.console.log("plain", 1, { a: [1] });
        globalThis.console.info("info");
        globalThis.console.warn("warn");
        globalThis.console.error(new TypeError("bad thing"));
        globalThis.console.debug(undefined, null, 2n);
        return new Response("ok");
      } }`,
    );
    const lines = result.logs.map(({ level, message }) => [level, message.split("\n")[0]]);
    expect(lines).toEqual([
      ["log", "top-level line"],
      ["log", 'plain 1 {"a":[1]}'],
      ["info", "info"],
      ["warn", "warn"],
      ["error", "TypeError: bad thing"],
      ["debug", "undefined null 2n"],
    ]);
    expect(result.logs.every((line) => typeof line.time === "number" && line.time > 0)).toBe(true);
    expect(hostLog.join("")).not.toContain("top-level line");
    expect(hostLog.join("")).not.toContain("plain 1");
  });

  it("answers before ctx.waitUntil work ends and reports that work, with its failures, afterwards", async () => {
    const result = await runSource(
      runner,
      `export default { fetch(req, env, ctx) {
        ctx.passThroughOnException();
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 50)).then(() => console.log("background done")));
        ctx.waitUntil(Promise.reject(new Error("background failed")));
        globalThis.console.log("answering");
        return new Response("ok");
      } }`,
    );
    expect(bodyText(result)).toBe("ok");
    expect(result.logs.map((line) => line.message)).toEqual(["answering"]);
    const background = await result.waitUntil;
    expect(background.error).toBeNull();
    expect(background.logs.map((line) => line.message)).toEqual([
      "background done",
      "Uncaught (in waitUntil) Error: background failed",
    ]);
    expect(background.wallMs).toBeGreaterThanOrEqual(result.wallMs);
  });

  it("reports the CPU and wall time a run used", async () => {
    const prepared = await runner.prepare(workerScript(`export default { fetch: () => new Response("ok") }`));
    const result = await runner.run(prepared, hostRequest());
    expect(result.cpuMs).toBeGreaterThan(0);
    expect(result.wallMs).toBeGreaterThanOrEqual(result.cpuMs);
  });
});
