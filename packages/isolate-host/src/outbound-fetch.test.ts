import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyText, rejectionOf, runSource } from "../test/helpers.js";
import { createIsolateRunner, type IsolateRunner, isRunError } from "./index.js";

/** A real HTTP server on 127.0.0.1 that the scripts fetch from. */
let server: Server;
let origin = "";
let port = 0;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/echo") {
        res.writeHead(200, { "content-type": "application/json", "x-upstream": "1" });
        res.end(
          JSON.stringify({
            method: req.method,
            body: Buffer.concat(chunks).toString(),
            auth: req.headers.authorization ?? null,
            custom: req.headers["x-custom"] ?? null,
          }),
        );
      } else if (url.pathname === "/redirect") {
        res.writeHead(302, { location: "/echo?from=redirect" });
        res.end();
      } else if (url.pathname === "/gzip") {
        res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
        res.end(gzipSync("decompressed text"));
      } else if (url.pathname === "/big") {
        res.writeHead(200);
        res.end(Buffer.alloc(200 * 1024, 97));
      } else if (url.pathname === "/slow") {
        setTimeout(() => res.end("slow"), 2_000).unref();
      } else {
        res.writeHead(404);
        res.end("not here");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

const runners: IsolateRunner[] = [];
function runnerWith(fetch: Parameters<typeof createIsolateRunner>[0] = {}): IsolateRunner {
  const runner = createIsolateRunner({ warmIsolates: 0, ...fetch });
  runners.push(runner);
  return runner;
}
const runner = runnerWith({ fetch: { maxSubrequests: 3, timeoutMs: 300, maxResponseBytes: 100 * 1024 } });

afterAll(async () => {
  for (const r of runners) r.dispose();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function json(source: string, target = runner): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(target, source, {}, { vars: { ORIGIN: origin } })));
}

describe("fetch() from a script", () => {
  it("sends method, headers and body to a real server and reads the response", async () => {
    const body = await json(`export default { async fetch(req, env) {
      const res = await fetch(env.ORIGIN + "/echo", { method: "POST", body: "payload", headers: { "x-custom": "c" } });
      return Response.json({ status: res.status, ok: res.ok, upstream: res.headers.get("x-upstream"), url: res.url, echo: await res.json() });
    } }`);
    expect(body).toEqual({
      status: 200,
      ok: true,
      upstream: "1",
      url: `${origin}/echo`,
      echo: { method: "POST", body: "payload", auth: null, custom: "c" },
    });
  });

  it("follows redirects (a 302 POST becomes a GET), or hands them back with redirect: manual", async () => {
    const body = await json(`export default { async fetch(req, env) {
      const followed = await fetch(env.ORIGIN + "/redirect", { method: "POST", body: "x" });
      const manual = await fetch(env.ORIGIN + "/redirect", { redirect: "manual" });
      return Response.json({ redirected: followed.redirected, url: followed.url, echo: await followed.json(),
        manual: [manual.status, manual.headers.get("location")] });
    } }`);
    expect(body).toEqual({
      redirected: true,
      url: `${origin}/echo?from=redirect`,
      echo: { method: "GET", body: "", auth: null, custom: null },
      manual: [302, "/echo?from=redirect"],
    });
  });

  it("decompresses gzip bodies and can be proxied straight back as the response", async () => {
    const result = await runSource(
      runner,
      `export default { fetch: (req, env) => fetch(env.ORIGIN + "/gzip") }`,
      {},
      { vars: { ORIGIN: origin } },
    );
    expect(bodyText(result)).toBe("decompressed text");
    expect(result.response.headers.find(([name]) => name === "content-encoding")).toBeUndefined();
  });

  it("more subrequests than allowed is EDGE_SUBREQUEST_LIMIT 503 when uncaught, a catchable error otherwise", async () => {
    const source = (catchIt: boolean) => `export default { async fetch(req, env) {
      for (let i = 0; i < 4; i++) {
        ${catchIt ? "try { await fetch(env.ORIGIN + '/echo'); } catch (e) { return new Response(e.message); }" : "await fetch(env.ORIGIN + '/echo');"}
      }
      return new Response("never");
    } }`;
    const err = await rejectionOf(runSource(runner, source(false), {}, { vars: { ORIGIN: origin } }));
    expect(isRunError(err) && [err.code, err.status]).toEqual(["EDGE_SUBREQUEST_LIMIT", 503]);
    const caught = await runSource(runner, source(true), {}, { vars: { ORIGIN: origin } });
    expect(bodyText(caught)).toMatch(/Too many subrequests/);
  });

  it("a response past the size cap, a slow server and a bad scheme reject the fetch", async () => {
    const body = await json(`export default { async fetch(req, env) {
      const errors = [];
      for (const target of [env.ORIGIN + "/big", env.ORIGIN + "/slow", "ftp://127.0.0.1/"]) {
        try { await fetch(target); errors.push("fetched"); } catch (e) { errors.push(e.name); }
      }
      return Response.json(errors);
    } }`);
    expect(body).toEqual(["RangeError", "TimeoutError", "TypeError"]);
  });

  it("an AbortSignal cancels a pending fetch with its reason", async () => {
    const body = await json(`export default { async fetch(req, env) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("gave up")), 20);
      try { await fetch(env.ORIGIN + "/slow", { signal: controller.signal }); return Response.json("fetched"); }
      catch (e) { return Response.json(e.message); }
    } }`);
    expect(body).toBe("gave up");
  });

  it("refuses forbidden targets, by address, by CIDR, and by a name that resolves to them", async () => {
    const before = hits.length;
    const guarded = runnerWith({ fetch: { forbiddenTargets: [`127.0.0.1:${port}`, "10.0.0.0/8"] } });
    const body = await json(
      `export default { async fetch(req, env) {
        const port = new URL(env.ORIGIN).port;
        const errors = [];
        for (const target of [env.ORIGIN + "/echo", "http://localhost:" + port + "/echo", "http://10.1.2.3/", "http://[::ffff:127.0.0.1]:" + port + "/"]) {
          try { await fetch(target); errors.push("fetched"); } catch (e) { errors.push(e.message.startsWith("Network connection to") ? "forbidden" : e.message); }
        }
        return Response.json(errors);
      } }`,
      guarded,
    );
    expect(body).toEqual(["forbidden", "forbidden", "forbidden", "forbidden"]);
    expect(hits.length).toBe(before);
  });
});
