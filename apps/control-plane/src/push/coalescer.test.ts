import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalescer.js";

/** A manual clock and a run that records when it started and finishes when told. */
function harness(windowMs: number) {
  let clock = 0;
  const starts: number[] = [];
  const finishers: Array<() => void> = [];
  const coalescer = new Coalescer(
    () =>
      new Promise<void>((resolve) => {
        starts.push(clock);
        finishers.push(resolve);
      }),
    { windowMs, retryDelayMs: 1_000, onError: () => {}, now: () => clock },
  );
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    coalescer,
    starts,
    setClock: (ms: number) => {
      clock = ms;
    },
    finish: async () => {
      finishers.shift()?.();
      await settle();
    },
    settle,
  };
}

describe("Coalescer", () => {
  it("runs a lone request at once rather than after the window", async () => {
    const h = harness(10_000);
    h.coalescer.request();
    await h.settle();
    expect(h.starts).toEqual([0]);
    await h.finish();
    await h.coalescer.close();
  });

  it("turns requests made during a run into exactly one more run", async () => {
    const h = harness(0);
    h.coalescer.request();
    await h.settle();
    for (let i = 0; i < 10; i++) h.coalescer.request();
    expect(h.starts).toHaveLength(1);
    await h.finish();
    await h.settle();
    expect(h.starts).toHaveLength(2);
    await h.finish();
    await h.settle();
    expect(h.starts).toHaveLength(2);
    await h.coalescer.close();
  });

  it("starts nothing after close, and close waits for the run in progress", async () => {
    const h = harness(0);
    h.coalescer.request();
    await h.settle();
    let closed = false;
    const closing = h.coalescer.close().then(() => {
      closed = true;
    });
    h.coalescer.request();
    await h.settle();
    expect(closed).toBe(false);
    await h.finish();
    await closing;
    expect(h.starts).toHaveLength(1);
  });
});
