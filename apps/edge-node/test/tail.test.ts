import type { TailBatch, TailFilter } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import type { RequestOutcome } from "../src/request-outcome.js";
import { EdgeTail } from "../src/tail/edge-tail.js";
import { compileFilter, sampler } from "../src/tail/filter.js";

function outcome(fields: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    script: "hello",
    version: 3,
    method: "GET",
    url: "http://hello.localhost/a",
    status: 200,
    startedAt: Date.now(),
    latencyMs: 2,
    cpuMs: 0.5,
    ranIsolate: true,
    errorCode: null,
    errorMessage: null,
    logs: [{ level: "log", message: "hit /a", time: Date.now() }],
    isolateStartMs: null,
    memoryBytes: null,
    ...fields,
  };
}

const filter = (fields: Partial<TailFilter>): TailFilter => ({
  pops: [],
  methods: [],
  statuses: [],
  search: "",
  sampleRate: 0,
  ...fields,
});

describe("tail filters", () => {
  it("match on PoP, method, exact status, status class, ok and error", () => {
    const o = outcome();
    expect(compileFilter(filter({ pops: ["fra"] }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ pops: ["iad"] }), "fra")(o)).toBe(false);
    expect(compileFilter(filter({ methods: ["post", "GET"] }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ methods: ["POST"] }), "fra")(o)).toBe(false);
    expect(compileFilter(filter({ statuses: ["200"] }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ statuses: ["5xx"] }), "fra")(o)).toBe(false);
    expect(compileFilter(filter({ statuses: ["ok"] }), "fra")(o)).toBe(true);
    const failed = outcome({ status: 503, errorCode: "EDGE_CPU_LIMIT" });
    expect(compileFilter(filter({ statuses: ["error"] }), "fra")(failed)).toBe(true);
    expect(compileFilter(filter({ statuses: ["4xx", "5xx"] }), "fra")(failed)).toBe(true);
    expect(compileFilter(filter({ statuses: ["ok"] }), "fra")(failed)).toBe(false);
    expect(compileFilter(filter({ statuses: ["weird"] }), "fra")(o)).toBe(false);
  });

  it("searches the URL, console lines and the error message, ignoring case", () => {
    const o = outcome({
      errorMessage: "TypeError: Boom",
      logs: [{ level: "warn", message: "Cart EMPTY", time: 0 }],
    });
    expect(compileFilter(filter({ search: "HELLO.local" }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ search: "cart empty" }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ search: "typeerror" }), "fra")(o)).toBe(true);
    expect(compileFilter(filter({ search: "nowhere" }), "fra")(o)).toBe(false);
  });

  it("samples at the given rate and keeps everything at 0 or 1", () => {
    const values = [0.1, 0.9, 0.4, 0.6];
    let i = 0;
    const half = sampler(0.5, () => values[i++ % values.length] as number);
    expect([half(), half(), half(), half()]).toEqual([true, false, true, false]);
    expect(sampler(0, () => 0.99)()).toBe(true);
    expect(sampler(1, () => 0.99)()).toBe(true);
  });
});

describe("EdgeTail", () => {
  const make = (options: Partial<ConstructorParameters<typeof EdgeTail>[0]> = {}) => {
    const tail = new EdgeTail({
      pop: "fra",
      nodeId: "fra-1",
      bufferSize: 100,
      flushMs: 60_000,
      historyPerScript: 100,
      historyMaxAgeMs: 60_000,
      ...options,
    });
    const batches: TailBatch[] = [];
    tail.connected((batch) => {
      batches.push(batch);
      return true;
    });
    return { tail, batches };
  };

  it("ships nothing for a script without a session", () => {
    const { tail, batches } = make();
    tail.observe(outcome());
    tail.flush();
    expect(batches).toEqual([]);
    tail.disconnected();
  });

  it("filters before sampling and ships a trace once for every session it matched", () => {
    // The sampler keeps, drops, keeps, drops... Sampling before filtering would
    // spend the "keeps" on the successful requests and ship no error at all.
    let n = 0;
    const { tail, batches } = make({ random: () => (n++ % 2 === 0 ? 0.1 : 0.9) });
    tail.setSessions({
      sessions: [
        { id: "all", script: "hello", filter: filter({}) },
        { id: "errors", script: "hello", filter: filter({ statuses: ["error"], sampleRate: 0.5 }) },
        { id: "other", script: "other", filter: filter({}) },
      ],
    });
    const error = (message: string) =>
      outcome({ status: 500, errorCode: "EDGE_SCRIPT_ERROR", errorMessage: message });
    for (const o of [outcome(), error("Error: x"), outcome(), error("Error: y")]) tail.observe(o);
    tail.flush();
    const deliveries = batches.flatMap((b) => b.deliveries);
    expect(deliveries.map((d) => [d.trace?.status, d.trace?.errorMessage, d.sessionIds])).toEqual([
      [200, "", ["all"]],
      [500, "Error: x", ["all", "errors"]],
      [200, "", ["all"]],
      [500, "Error: y", ["all"]],
    ]);
    expect(deliveries[1]?.trace).toMatchObject({ pop: "fra", nodeId: "fra-1", version: 3 });
    expect(deliveries[1]?.trace?.logs).toEqual([
      expect.objectContaining({ level: "log", message: "hit /a" }),
    ]);
    tail.disconnected();
  });

  it("drops traces beyond its buffer and tells each session how many", () => {
    const { tail, batches } = make({ bufferSize: 2 });
    tail.setSessions({ sessions: [{ id: "s1", script: "hello", filter: filter({}) }] });
    for (let i = 0; i < 5; i++) tail.observe(outcome());
    tail.flush();
    expect(batches.flatMap((b) => b.deliveries)).toHaveLength(2);
    expect(batches[0]?.dropped).toEqual({ s1: 3 });
    expect(tail.droppedTotal).toBe(3);
    tail.disconnected();
  });

  it("keeps recent summaries without console lines and answers history queries, newest last", () => {
    const { tail } = make({ historyPerScript: 3 });
    const t0 = Date.now();
    for (let i = 0; i < 5; i++)
      tail.observe(outcome({ url: `http://hello.localhost/${i}`, startedAt: t0 + i }));
    tail.observe(outcome({ status: 503, errorCode: "EDGE_CPU_LIMIT", startedAt: t0 + 5 }));
    const all = tail.answer({ queryId: "q", script: "hello", sinceMs: 0, limit: 10, filter: undefined });
    expect(all.traces.map((t) => t.url.slice(-1))).toEqual(["3", "4", "a"]);
    expect(all.traces.every((t) => t.logs.length === 0)).toBe(true);
    const errors = tail.answer({
      queryId: "q2",
      script: "hello",
      sinceMs: 0,
      limit: 10,
      filter: filter({ statuses: ["error"] }),
    });
    expect(errors).toMatchObject({ queryId: "q2", truncated: false });
    expect(errors.traces.map((t) => t.errorCode)).toEqual(["EDGE_CPU_LIMIT"]);
    const limited = tail.answer({
      queryId: "q3",
      script: "hello",
      sinceMs: t0 + 4,
      limit: 1,
      filter: undefined,
    });
    expect(limited.truncated).toBe(true);
    expect(limited.traces.map((t) => t.status)).toEqual([503]);
    tail.disconnected();
  });
});
