import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, workerScript } from "../test/helpers.js";
import { createIsolateRunner, type IsolateRunner, isRunError } from "./index.js";

describe("bytes the host holds for a script's subrequests are bounded", () => {
  let origin: Server;
  let base = "";
  const runners: IsolateRunner[] = [];

  beforeAll(async () => {
    // Answers /<n> with n MiB.
    origin = createServer((req, res) => {
      const mib = Number(req.url?.slice(1) ?? 0);
      res.writeHead(200, { "content-length": String(mib * 1024 * 1024) });
      res.end(Buffer.alloc(mib * 1024 * 1024, 1));
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await Promise.all(runners.map((runner) => runner.dispose()));
    origin.close();
  });

  const limits = { cpuMs: 1_000, memoryMb: 16, wallMs: 10_000 };
  const fetchSize = (mib: number) =>
    `export default { async fetch(r, env) { const res = await fetch(env.ORIGIN + "/${mib}"); return new Response(String((await res.arrayBuffer()).byteLength)); } }`;

  it("fails an uncaught subrequest larger than the script's memory limit with EDGE_MEMORY_LIMIT", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0 });
    runners.push(runner);
    const prepared = await runner.prepare(workerScript(fetchSize(24), { limits, vars: { ORIGIN: base } }));
    const err = await rejectionOf(runner.run(prepared, hostRequest()));
    expect(isRunError(err) && [err.code, err.status]).toEqual(["EDGE_MEMORY_LIMIT", 503]);
  });

  it("refuses a subrequest body once the node's host-memory budget is spent, and serves smaller ones", async () => {
    const runner = createIsolateRunner({ warmIsolates: 0, maxHostBytes: 2 * 1024 * 1024 });
    runners.push(runner);
    const big = await runner.prepare(
      workerScript(
        `export default { async fetch(r, env) {
          try { await fetch(env.ORIGIN + "/4"); return new Response("fetched"); }
          catch (e) { return new Response(e.name + ": " + e.message); }
        } }`,
        { limits, vars: { ORIGIN: base } },
      ),
    );
    expect(bodyText(await runner.run(big, hostRequest()))).toBe(
      "TypeError: The node has no memory for this subrequest's response right now",
    );
    const small = await runner.prepare(workerScript(fetchSize(1), { limits, vars: { ORIGIN: base } }));
    expect(bodyText(await runner.run(small, hostRequest()))).toBe(String(1024 * 1024));
  });
});
