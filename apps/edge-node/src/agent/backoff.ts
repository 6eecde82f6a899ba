/**
 * Reconnect delays as gRPC's own connection backoff: start at 1 s, ×1.6 per
 * failure, ±20 % jitter, capped. `reset()` after a connection succeeds.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly initialMs = 1_000,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 1.6 ** this.#attempt);
    this.#attempt += 1;
    const jitter = 1 + (this.random() * 2 - 1) * 0.2;
    return Math.round(base * jitter);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
