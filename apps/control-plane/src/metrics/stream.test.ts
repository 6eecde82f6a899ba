import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS, type MetricsReport } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane } from "../grpc/test-node.js";
import { createMetricsAggregator, type MetricsAggregator } from "./aggregator.js";
import { createSqliteMetricsStore } from "./store/sqlite.js";
import type { MetricsStore } from "./store/types.js";

function bucketsAt(boundMs: number, count: number): number[] {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  buckets[LATENCY_BOUNDS_MS.indexOf(boundMs)] = count;
  return buckets;
}

function report(sequence: number, script: string, requests: number, boundMs: number): MetricsReport {
  const now = Date.now();
  return {
    windowStartMs: now - 1_000,
    windowEndMs: now,
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
    cpuBoundsMs: [...CPU_BOUNDS_MS],
    reporterId: "agent-1",
    sequence,
    node: undefined,
    scripts: [
      {
        script,
        version: 1,
        requests,
        errors: 0,
        cpuMsTotal: requests,
        latencyMsTotal: 0,
        latencyBuckets: bucketsAt(boundMs, requests),
        cpuBuckets: [],
        statusClasses: { "2xx": requests },
        errorsByCode: {},
        isolateStarts: 0,
        isolateStartMsTotal: 0,
        memorySamples: 0,
        memoryBytesTotal: 0,
        kvOps: {},
      },
    ],
  };
}

describe("metrics reports over the node stream", () => {
  let cp: TestControlPlane;
  let store: MetricsStore;
  let metrics: MetricsAggregator;

  beforeEach(async () => {
    store = createSqliteMetricsStore(":memory:");
    metrics = createMetricsAggregator({
      store,
      logger: pino({ level: "silent" }),
      flushMs: 60_000,
      retentionMs: 3_600_000,
    });
    cp = await startTestControlPlane({ telemetry: { metrics: (node, r) => metrics.record(node, r) } });
  });

  afterEach(async () => {
    await cp.close();
    await metrics.close();
    await store.close();
  });

  it("aggregates two nodes' reports per script and per node, and acknowledges each on its stream once stored", async () => {
    const fra = cp.node();
    fra.hello("fra-1", { pop: "fra" });
    const ams = cp.node();
    ams.hello("ams-1", { pop: "ams" });
    await fra.push(1);
    await ams.push(1);
    fra.send({ $case: "metrics", value: report(1, "hello", 10, 7.5) });
    ams.send({ $case: "metrics", value: report(1, "hello", 10, 75) });
    await eventually(() => metrics.pendingRows === 2, "both reports");

    const view = await metrics.query({ script: "hello" });
    expect(view.scripts[0]).toMatchObject({
      script: "hello",
      requests: 20,
      // Half the requests in (5, 7.5], half in (50, 75]: p50 = 7.5, p99 = 50 + 25 * 9.8/10.
      latencyMs: { p50: 7.5, p99: 74.5 },
      nodes: [
        { nodeId: "ams-1", pop: "ams", requests: 10 },
        { nodeId: "fra-1", pop: "fra", requests: 10 },
      ],
    });
    const acks = (node: ReturnType<TestControlPlane["node"]>) =>
      node.messages.filter((m) => m.msg?.$case === "metricsAck");
    expect(acks(fra)).toEqual([]);
    await metrics.flush();
    await fra.until(() => acks(fra).length === 1, "fra's ack");
    await ams.until(() => acks(ams).length === 1, "ams's ack");
    expect(acks(fra)[0]?.msg?.value).toEqual({ reporterId: "agent-1", upToSequence: 1 });
  });

  it("does not count a report twice when a reconnecting node sends it again", async () => {
    const first = cp.node();
    first.hello("fra-1", { pop: "fra" });
    await first.push(1);
    first.send({ $case: "metrics", value: report(1, "hello", 4, 1) });
    await eventually(() => metrics.pendingRows === 1, "the report");
    first.close();

    const again = cp.node();
    again.hello("fra-1", { pop: "fra" });
    await again.push(1);
    again.send({ $case: "metrics", value: report(1, "hello", 4, 1) });
    again.send({ $case: "metrics", value: report(2, "hello", 1, 1) });
    await eventually(() => [...metrics.lifetime()].some((e) => e.requests === 5), "the second report");
    await metrics.flush();
    await again.until(
      () => again.messages.some((m) => m.msg?.$case === "metricsAck" && m.msg.value.upToSequence === 2),
      "the ack of both",
    );
    expect((await metrics.query({ script: "hello" })).scripts[0]?.requests).toBe(5);
  });
});
