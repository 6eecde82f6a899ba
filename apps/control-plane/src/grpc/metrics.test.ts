import { LATENCY_BOUNDS_MS } from "@edge/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane } from "./test-node.js";

/** Buckets over LATENCY_BOUNDS_MS (+ overflow) with `count` requests in the bucket bounded by `boundMs`. */
function bucketsAt(boundMs: number, count: number): number[] {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  buckets[LATENCY_BOUNDS_MS.indexOf(boundMs)] = count;
  return buckets;
}

describe("metrics reports over the stream", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("aggregates reports from two nodes into per-script and per-node counts and quantiles", async () => {
    const fra = cp.node();
    fra.hello("fra-1", { pop: "fra" });
    const ams = cp.node();
    ams.hello("ams-1", { pop: "ams" });
    await fra.push(1);
    await ams.push(1);

    const window = { windowStartMs: 1_000, windowEndMs: 11_000, latencyBoundsMs: [...LATENCY_BOUNDS_MS] };
    const line = { version: 1, latencyMsTotal: 0 };
    fra.send({
      $case: "metrics",
      value: {
        ...window,
        scripts: [
          {
            ...line,
            script: "hello",
            requests: 10,
            errors: 1,
            cpuMsTotal: 12.5,
            latencyBuckets: bucketsAt(7.5, 10),
          },
          {
            ...line,
            script: "other",
            requests: 2,
            errors: 0,
            cpuMsTotal: 1,
            latencyBuckets: bucketsAt(1, 2),
          },
        ],
      },
    });
    ams.send({
      $case: "metrics",
      value: {
        ...window,
        scripts: [
          {
            ...line,
            script: "hello",
            requests: 10,
            errors: 3,
            cpuMsTotal: 7.5,
            latencyBuckets: bucketsAt(75, 10),
          },
        ],
      },
    });
    await eventually(() => cp.server.metrics.view("hello").scripts[0]?.requests === 20, "both reports");

    expect(cp.server.metrics.view("hello")).toEqual({
      scripts: [
        {
          script: "hello",
          requests: 20,
          errors: 4,
          cpuMsTotal: 20,
          // Half the requests in (5, 7.5], half in (50, 75]: p50 = 7.5, p99 = 50 + 25 * 9.8/10.
          latencyMs: { p50: 7.5, p99: 74.5 },
          nodes: [
            {
              nodeId: "ams-1",
              pop: "ams",
              requests: 10,
              errors: 3,
              cpuMsTotal: 7.5,
              latencyMs: { p50: 62.5, p99: 74.75 },
            },
            {
              nodeId: "fra-1",
              pop: "fra",
              requests: 10,
              errors: 1,
              cpuMsTotal: 12.5,
              latencyMs: { p50: 6.25, p99: 7.475 },
            },
          ],
        },
      ],
    });
    expect(cp.server.metrics.view().scripts.map((s) => [s.script, s.requests])).toEqual([
      ["hello", 20],
      ["other", 2],
    ]);
  });
});
