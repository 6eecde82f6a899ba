/**
 * PoPs the router has just seen fail (unreachable, or not answering): passed
 * over for `holdMs`, so the requests that follow go to the next nearest at
 * once instead of each waiting out a timeout. The control plane's view
 * catches up later (a frozen node misses its heartbeats); this covers the gap.
 */
export interface HoldDown {
  /**
   * Passes `key` over from now for the hold time (`0`: never). Returns a
   * function that lifts this hold early (not a later one for the same key).
   */
  hold(key: string, reason: string): () => void;
  /** Why `key` is held down, or `null` when it is not (any more). */
  reasonFor(key: string): string | null;
  /** What is held down now, for `/healthz`. */
  list(): Array<{ key: string; reason: string; remainingMs: number }>;
}

export function createHoldDown(holdMs: number, now: () => number = Date.now): HoldDown {
  const held = new Map<string, { until: number; reason: string }>();
  const prune = () => {
    const t = now();
    for (const [key, entry] of held) if (entry.until <= t) held.delete(key);
  };
  return {
    hold(key, reason) {
      if (holdMs <= 0) return () => {};
      prune();
      const entry = { until: now() + holdMs, reason };
      held.set(key, entry);
      return () => {
        if (held.get(key) === entry) held.delete(key);
      };
    },
    reasonFor(key) {
      const entry = held.get(key);
      if (entry === undefined) return null;
      if (entry.until > now()) return entry.reason;
      held.delete(key);
      return null;
    },
    list() {
      prune();
      const t = now();
      return [...held].map(([key, { until, reason }]) => ({ key, reason, remainingMs: until - t }));
    },
  };
}
