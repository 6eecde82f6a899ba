import { afterAll, describe, expect, it } from "vitest";
import { bodyText, rejectionOf, runSource, TEST_LIMITS } from "../test/helpers.js";
import { createIsolateRunner, isRunError } from "./index.js";

// Room above the scripts' own limits, for the one test below that needs more CPU time.
const runner = createIsolateRunner({ maxLimits: { cpuMs: 1_000, memoryMb: 128, wallMs: 30_000 } });
afterAll(() => runner.dispose());

const NORMAL = `export default { fetch: (req) => new Response("fine " + new URL(req.url).pathname) }`;

async function expectNormalRequestWorks(): Promise<void> {
  expect(bodyText(await runSource(runner, NORMAL))).toBe("fine /path");
}

async function json(source: string, request = {}, script = {}): Promise<unknown> {
  return JSON.parse(bodyText(await runSource(runner, source, request, script)));
}

describe("hostile scripts against the host-backed runtime", () => {
  it("no function reachable from the globals leads to the host realm", async () => {
    const body = await json(
      `export default { async fetch() {
      const seen = new Set();
      const reached = [];
      const probes = [];
      const visit = (value, path, depth) => {
        if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value) || depth > 3) return;
        seen.add(value);
        if (typeof value === "function") {
          try {
            // The function's own constructor: Function, AsyncFunction or GeneratorFunction of some realm.
            const probe = value.constructor("return [typeof process, typeof require, typeof Buffer, typeof globalThis.__edgeInit].join()");
            let found = probe();
            if (found && typeof found.next === "function") found = found.next().value;
            probes.push(Promise.resolve(found).then((text) => {
              if (text !== "undefined,undefined,undefined,undefined") reached.push(path + ": " + text);
            }));
          } catch {}
        }
        for (const key of Reflect.ownKeys(value)) {
          let child;
          try { child = value[key]; } catch { continue; }
          if (child instanceof Promise) child.catch(() => {});
          visit(child, path + "." + String(key), depth + 1);
        }
      };
      for (const name of Reflect.ownKeys(globalThis)) {
        let value;
        try { value = globalThis[name]; } catch { continue; }
        visit(value, String(name), 0);
      }
      await Promise.all(probes);
      return Response.json({ reached, visited: seen.size });
    } }`,
      {},
      // Walking every global (lazy parts loaded on touch) is CPU work that is not what is tested.
      { limits: { ...TEST_LIMITS, cpuMs: 500 } },
    );
    expect(body).toMatchObject({ reached: [] });
    expect((body as { visited: number }).visited).toBeGreaterThan(100);
  });

  it("host-backed functions refuse hostile arguments and their errors carry no host details", async () => {
    const body = await json(
      `export default { async fetch() {
      const results = [];
      const attempts = [
        () => crypto.getRandomValues(new Proxy(new Uint8Array(4), {})),
        () => crypto.subtle.digest("SHA-256", { byteLength: 4, buffer: new ArrayBuffer(4) }),
        () => crypto.subtle.digest({ get name() { throw new Error("getter ran"); } }, new Uint8Array(1)),
        () => crypto.subtle.digest("SHA-256", new Uint8Array(17 * 1024 * 1024)),
        () => fetch({ toString() { return "javascript:alert(1)"; } }),
      ];
      for (const attempt of attempts) {
        try { await attempt(); results.push("accepted"); }
        catch (e) { results.push(String(e && e.stack || e)); }
      }
      let stringTimer = "not run";
      globalThis.marker = "not run";
      setTimeout("globalThis.marker = 'ran'", 0);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return Response.json({ results, stringTimer: globalThis.marker });
    } }`,
      {},
      // Copying 17 MiB is not what is tested: isolated-vm's CPU clock counts wall time while the
      // isolate runs, so on a loaded machine it could pass 50 ms and end the run with EDGE_CPU_LIMIT.
      { limits: { ...TEST_LIMITS, cpuMs: 1_000 } },
    );
    const { results, stringTimer } = body as { results: string[]; stringTimer: string };
    expect(results).toHaveLength(5);
    for (const result of results) {
      expect(result).not.toBe("accepted");
      expect(result).not.toMatch(/node:|\/src\/|\/node_modules\/|isolate-host/);
    }
    expect(stringTimer).toBe("not run");
  });

  it("a request with huge headers is served, and a script cannot smuggle bad headers out", async () => {
    const headers: Array<[string, string]> = Array.from({ length: 2_000 }, (_, i) => [
      `x-h${i}`,
      "v".repeat(64),
    ]);
    headers.push(["x-big", "b".repeat(256 * 1024)]);
    const body = await json(
      `export default { fetch(req) {
        let smuggled = "accepted";
        try { new Headers({ "x-evil": "a\\r\\nset-cookie: stolen" }); } catch (e) { smuggled = e.constructor.name; }
        return Response.json({ count: [...req.headers].length, big: req.headers.get("x-big").length, smuggled });
      } }`,
      { headers },
    );
    expect(body).toEqual({ count: 2_001, big: 256 * 1024, smuggled: "TypeError" });
    await expectNormalRequestWorks();
  });

  it("a timer that would fire after the wall-clock limit ends the request with EDGE_WALL_LIMIT", async () => {
    const err = await rejectionOf(
      runSource(
        runner,
        `export default { async fetch() { await new Promise((resolve) => setTimeout(resolve, 60_000)); return new Response("late"); } }`,
        {},
        { limits: { cpuMs: 50, memoryMb: 64, wallMs: 250 } },
      ),
    );
    expect(isRunError(err) && [err.code, err.status]).toEqual(["EDGE_WALL_LIMIT", 504]);
    await expectNormalRequestWorks();
  });

  it("an endless loop inside a timer callback is stopped with EDGE_CPU_LIMIT", async () => {
    const err = await rejectionOf(
      runSource(
        runner,
        `export default { async fetch() { await new Promise((resolve) => setTimeout(() => { while (true) {} }, 1)); } }`,
      ),
    );
    expect(isRunError(err) && err.code).toBe("EDGE_CPU_LIMIT");
    await expectNormalRequestWorks();
  });

  it("hashing huge inputs in a loop is charged to the script's CPU budget", async () => {
    const err = await rejectionOf(
      runSource(
        runner,
        `export default { async fetch() {
          const data = new Uint8Array(8 * 1024 * 1024);
          for (;;) await crypto.subtle.digest("SHA-512", data);
        } }`,
        {},
        { limits: { cpuMs: 50, memoryMb: 64, wallMs: 20_000 } },
      ),
    );
    expect(isRunError(err) && err.code).toBe("EDGE_CPU_LIMIT");
    await expectNormalRequestWorks();
  });

  it("pollution of the new built-ins does not carry over to the next request", async () => {
    await runSource(
      runner,
      `export default { fetch() {
        ReadableStream.prototype.getReader = () => "hijacked";
        TextEncoder.prototype.encode = () => "hijacked";
        AbortController.prototype.abort = () => "hijacked";
        EventTarget.prototype.dispatchEvent = () => "hijacked";
        Object.defineProperty(globalThis, "setTimeout", { value: () => "hijacked" });
        globalThis.atob = () => "hijacked";
        try { crypto.subtle.digest = () => "hijacked"; } catch {}
        return new Response("polluted");
      } }`,
    ).catch(() => undefined);
    const body = await json(`export default { async fetch() {
      const stream = new ReadableStream({ start(c) { c.close(); } });
      const controller = new AbortController();
      controller.abort();
      const digest = await crypto.subtle.digest("SHA-1", new Uint8Array(0));
      return Response.json({
        reader: typeof stream.getReader().read,
        encoded: new TextEncoder().encode("a").length,
        aborted: controller.signal.aborted,
        dispatched: new EventTarget().dispatchEvent(new Event("x")),
        timer: typeof setTimeout(() => {}, 0),
        atob: atob("YQ=="),
        digest: digest.byteLength,
      });
    } }`);
    expect(body).toEqual({
      reader: "function",
      encoded: 1,
      aborted: true,
      dispatched: true,
      timer: "number",
      atob: "a",
      digest: 20,
    });
  });
});
