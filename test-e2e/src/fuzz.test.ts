import { describe, expect, it } from "vitest";
import {
  describeFigures,
  type FuzzFigures,
  fuzzSeconds,
  HEAP_GROWTH_LIMIT_BYTES,
  RSS_GROWTH_LIMIT_BYTES,
} from "./fuzz/budget.js";
import { fuzzEdgeFront } from "./fuzz/edge-front.js";
import { fuzzGrpc } from "./fuzz/grpc.js";
import { fuzzHttpApi } from "./fuzz/http-api.js";

/**
 * Property-based fuzzing (fast-check) of the three faces the outside world
 * reaches: the control plane's HTTP API, its gRPC service and an edge node's
 * HTTP front. A short run (3 s each) in the suite; `npm run fuzz` runs each for
 * EDGE_FUZZ_SECONDS (default 20) and prints the figures.
 */
const seconds = fuzzSeconds(3);
const timeout = (seconds * 3 + 60) * 1000;

function check(figures: FuzzFigures): void {
  process.stdout.write(describeFigures(figures));
  expect(figures.failures).toEqual([]);
  expect(figures.runs).toBeGreaterThan(0);
  if (figures.heapBeforeBytes !== null && figures.heapAfterBytes !== null) {
    // In this process (the test runner's too): what survives a full GC, not the allocator's slack.
    expect(figures.heapAfterBytes - figures.heapBeforeBytes).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
  } else {
    expect(figures.rssAfterBytes - figures.rssBeforeBytes).toBeLessThan(RSS_GROWTH_LIMIT_BYTES);
  }
}

describe("fuzzing", () => {
  it("finds no 5xx, crash or unbounded growth in the control plane's HTTP API", { timeout }, async () => {
    check(await fuzzHttpApi(seconds));
  });

  it("finds no crash, unsound node or poisoned metric through the control plane's gRPC service", {
    timeout,
  }, async () => {
    check(await fuzzGrpc(seconds));
  });

  it("finds no unexpected 5xx, crash or unbounded growth in an edge node's HTTP front", {
    timeout,
  }, async () => {
    check(await fuzzEdgeFront(seconds));
  });
});
