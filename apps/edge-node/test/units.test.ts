import { LATENCY_BOUNDS_MS } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { Backoff } from "../src/agent/backoff.js";
import { scriptNameFromHost } from "../src/http/host.js";
import { MetricsCollector } from "../src/metrics/collector.js";

describe("scriptNameFromHost", () => {
  it("takes the one label in front of the zone, ignoring port and case", () => {
    expect(scriptNameFromHost("hello.localhost:8101", "localhost")).toBe("hello");
    expect(scriptNameFromHost("My-App.edge.test", "edge.test")).toBe("my-app");
    expect(scriptNameFromHost("hello.localhost.", "localhost")).toBe("hello");
  });

  it("rejects hosts outside the zone, nested labels and invalid names", () => {
    expect(scriptNameFromHost(undefined, "localhost")).toBeNull();
    expect(scriptNameFromHost("localhost:8101", "localhost")).toBeNull();
    expect(scriptNameFromHost("a.b.localhost", "localhost")).toBeNull();
    expect(scriptNameFromHost("-bad.localhost", "localhost")).toBeNull();
    expect(scriptNameFromHost("hello.example.com", "localhost")).toBeNull();
    expect(scriptNameFromHost("[::1]:8101", "localhost")).toBeNull();
    expect(scriptNameFromHost("hello.localhost:http", "localhost")).toBeNull();
  });
});

describe("Backoff", () => {
  it("grows by 1.6 per failure within ±20 % jitter, caps, and starts over after reset", () => {
    const noJitter = new Backoff(1000, 5000, () => 0.5);
    expect([noJitter.next(), noJitter.next(), noJitter.next(), noJitter.next(), noJitter.next()]).toEqual([
      1000, 1600, 2560, 4096, 5000,
    ]);
    noJitter.reset();
    expect(noJitter.next()).toBe(1000);
    expect(new Backoff(1000, 5000, () => 0).next()).toBe(800);
    expect(new Backoff(1000, 5000, () => 0.999999).next()).toBe(1200);
  });
});

describe("MetricsCollector", () => {
  it("counts requests, errors, CPU and latency buckets per script version", () => {
    const collector = new MetricsCollector();
    collector.record("hello", 1, { latencyMs: 0.2, cpuMs: 0.1, error: false });
    collector.record("hello", 1, { latencyMs: 40, cpuMs: 2, error: true });
    collector.record("hello", 2, { latencyMs: 999_999, cpuMs: 1, error: false });
    const report = collector.drain();
    expect(report?.latencyBoundsMs).toEqual(LATENCY_BOUNDS_MS);
    const v1 = report?.scripts.find((s) => s.version === 1);
    expect(v1).toMatchObject({ script: "hello", requests: 2, errors: 1, cpuMsTotal: 2.1 });
    expect(v1?.latencyBuckets[0]).toBe(1);
    expect(v1?.latencyBuckets[LATENCY_BOUNDS_MS.indexOf(50)]).toBe(1);
    const v2 = report?.scripts.find((s) => s.version === 2);
    expect(v2?.latencyBuckets[LATENCY_BOUNDS_MS.length]).toBe(1);
    expect(collector.drain()).toBeNull();
  });

  it("merges an undelivered report back so the next one carries it", () => {
    const collector = new MetricsCollector();
    collector.record("hello", 1, { latencyMs: 1, cpuMs: 1, error: false });
    const lost = collector.drain();
    collector.record("hello", 1, { latencyMs: 1, cpuMs: 1, error: true });
    if (lost) collector.restore(lost);
    const next = collector.drain();
    expect(next?.scripts).toHaveLength(1);
    expect(next?.scripts[0]).toMatchObject({ requests: 2, errors: 1, cpuMsTotal: 2 });
    expect(next?.windowStartMs).toBe(lost?.windowStartMs);
  });
});
