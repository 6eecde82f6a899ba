import { describe, expect, it } from "vitest";
import { createHoldDown } from "./hold-down.js";

/** A clock the test moves by hand: hold-down is about elapsed time, not about waiting. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("hold-down of failed PoPs", () => {
  it("passes a PoP over for the hold time, then lets it back", () => {
    const clock = manualClock();
    const holdDown = createHoldDown(10_000, clock.now);
    holdDown.hold("sin-1@127.0.0.2:8101", "did not answer within 300 ms");
    expect(holdDown.reasonFor("sin-1@127.0.0.2:8101")).toBe("did not answer within 300 ms");
    expect(holdDown.reasonFor("fra-1@127.0.0.3:8101")).toBeNull();
    clock.advance(9_999);
    expect(holdDown.list()).toEqual([
      { key: "sin-1@127.0.0.2:8101", reason: "did not answer within 300 ms", remainingMs: 1 },
    ]);
    clock.advance(1);
    expect(holdDown.reasonFor("sin-1@127.0.0.2:8101")).toBeNull();
    expect(holdDown.list()).toEqual([]);
  });

  it("lifts a hold early only if no later hold replaced it", () => {
    const clock = manualClock();
    const holdDown = createHoldDown(10_000, clock.now);
    const liftFirst = holdDown.hold("sin-1@a", "did not answer within 300 ms");
    const liftSecond = holdDown.hold("sin-1@a", "could not be reached");
    liftFirst();
    expect(holdDown.reasonFor("sin-1@a")).toBe("could not be reached");
    liftSecond();
    expect(holdDown.reasonFor("sin-1@a")).toBeNull();
  });

  it("holds nothing when the hold time is 0", () => {
    const holdDown = createHoldDown(0);
    holdDown.hold("sin-1@a", "could not be reached");
    expect(holdDown.reasonFor("sin-1@a")).toBeNull();
    expect(holdDown.list()).toEqual([]);
  });
});
