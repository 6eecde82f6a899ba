import { afterEach, describe, expect, it } from "vitest";
import type { MetricsView, ScriptMetricsView } from "../push/types.js";
import { type Harness, startHarness } from "../test-harness.js";

let h: Harness;

afterEach(async () => {
  await h.close();
});

function figures(script: string, requests: number): ScriptMetricsView {
  return {
    script,
    requests,
    errors: 1,
    latencyMs: { p50: 2, p99: 9 },
    cpuMsTotal: 12.5,
    nodes: [
      { nodeId: "node-a", pop: "fra", requests, errors: 1, latencyMs: { p50: 2, p99: 9 }, cpuMsTotal: 12.5 },
    ],
  };
}

const view: MetricsView = { scripts: [figures("hello", 10), figures("other", 4)] };

describe("GET /v1/metrics", () => {
  it("returns the metrics of every script", async () => {
    h = await startHarness({ metrics: view });
    const res = await h.request({ method: "GET", url: "/v1/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(view);
  });

  it("returns one script's metrics with ?script=", async () => {
    h = await startHarness({ metrics: view });
    const res = await h.request({ method: "GET", url: "/v1/metrics?script=other" });
    expect(res.json()).toEqual({ scripts: [figures("other", 4)] });
  });

  it("answers 400 EDGE_INVALID_QUERY for a ?script= that is not a script name", async () => {
    h = await startHarness({ metrics: view });
    const res = await h.request({ method: "GET", url: "/v1/metrics?script=Bad_Name" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_QUERY");
  });
});
