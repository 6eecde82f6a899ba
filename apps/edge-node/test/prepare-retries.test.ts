import { createIsolateRunner } from "@edge/isolate-host";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { ScriptRegistry } from "../src/script-registry.js";
import { script } from "./scripted-control-plane.js";

describe("transient and deterministic prepare failures", () => {
  const runner = createIsolateRunner({ warmIsolates: 0, startupCpuMs: 200 });
  afterAll(() => runner.dispose());
  const registry = new ScriptRegistry(runner, pino({ level: "silent" }), {
    retryDelaysMs: [50, 100, 200, 400, 800, 1_600],
  });

  it("retries a version whose top-level code ran out of start-up CPU while the machine was busy, then serves it", async () => {
    // Stands for a loaded machine: top-level code is slow until a moment has passed, then fast.
    const busyUntil = Date.now() + 700;
    const source = `const until = ${busyUntil}; while (Date.now() < until) {}
      export default { fetch: () => new Response("deployed") }`;
    const seen: Array<Record<string, string>> = [];
    const watch = setInterval(() => seen.push(registry.retrying()), 20);
    const errors = await registry.apply({
      configVersion: 1,
      full: true,
      upserts: [script("busy", 1, source)],
      removals: [],
      nonce: "n1",
    } as Parameters<ScriptRegistry["apply"]>[0]);
    clearInterval(watch);
    expect(errors).toEqual([]);
    expect(registry.get("busy")?.version).toBe(1);
    expect(seen.some((entry) => /start-up CPU limit/.test(entry.busy ?? ""))).toBe(true);
    expect(registry.retrying()).toEqual({});
  });

  it("rejects a syntax error or a top-level throw at once, without retrying", async () => {
    const errors = await registry.apply({
      configVersion: 2,
      full: false,
      upserts: [
        script("broken", 1, "export default {"),
        script("thrower", 1, `throw new Error("boom"); export default {}`),
      ],
      removals: [],
      nonce: "n2",
    } as Parameters<ScriptRegistry["apply"]>[0]);
    expect(errors.map((e) => e.name).sort()).toEqual(["broken", "thrower"]);
    expect(registry.retrying()).toEqual({});
    expect(registry.get("busy")?.version).toBe(1);
  });

  it("retries a restored version that fails to prepare under load on its first request, then serves it", async () => {
    const busyUntil = Date.now() + 700;
    const source = `const until = ${busyUntil}; while (Date.now() < until) {}
      export default { fetch: () => new Response("restored") }`;
    registry.restore({ configVersion: 3, scripts: [script("late", 1, source)], rejected: {} });
    const late = registry.get("late");
    expect(late?.isPrepared).toBe(false);
    const seen: Array<Record<string, string>> = [];
    const watch = setInterval(() => seen.push(registry.retrying()), 20);
    const prepared = await late?.prepare();
    clearInterval(watch);
    expect(prepared?.version).toBe(1);
    expect(late?.isPrepared).toBe(true);
    expect(seen.some((entry) => /start-up CPU limit/.test(entry.late ?? ""))).toBe(true);
    expect(registry.retrying()).toEqual({});
  });

  it("keeps a restored version whose preparation failed under load for good, and prepares it when asked again", async () => {
    const impatient = new ScriptRegistry(runner, pino({ level: "silent" }), { retryDelaysMs: [] });
    const busyUntil = Date.now() + 700;
    const source = `const until = ${busyUntil}; while (Date.now() < until) {}
      export default { fetch: () => new Response("second try") }`;
    impatient.restore({ configVersion: 1, scripts: [script("slow", 1, source)], rejected: {} });
    const err = await impatient
      .get("slow")
      ?.prepare()
      .then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
    expect(err?.code).toBe("EDGE_STARTUP_LIMIT");
    // Bounded: the script is fast once the moment has passed.
    for (let i = 0; i < 50 && Date.now() < busyUntil; i++) await new Promise((r) => setTimeout(r, 50));
    const prepared = await impatient.get("slow")?.prepare();
    expect(prepared?.version).toBe(1);
    if (prepared === undefined) throw new Error("no prepared version");
    const answer = await runner.run(prepared, {
      method: "GET",
      url: "http://slow.localhost/",
      headers: [],
      body: null,
    });
    expect(Buffer.from(answer.response.body).toString()).toBe("second try");
  });
});
