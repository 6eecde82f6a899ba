export interface CoalescerOptions {
  /** Quiet time after the last request before running. */
  delayMs: number;
  /** Longest a request waits, even while requests keep coming. */
  maxDelayMs: number;
  /** Wait before retrying after `run` failed. */
  retryDelayMs: number;
  onError(error: unknown): void;
}

/**
 * Turns bursts of `request()` into few `run()`s: a debounce capped at
 * `maxDelayMs`, never two runs at once, and a request that arrives during a run
 * gets a run of its own afterwards. A failed run is retried until one succeeds
 * or a newer request supersedes it.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | null = null;
  private firstRequestAt: number | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly options: CoalescerOptions,
  ) {}

  request(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.running !== null) return;
    const now = Date.now();
    this.firstRequestAt ??= now;
    const delay = Math.max(
      0,
      Math.min(this.options.delayMs, this.firstRequestAt + this.options.maxDelayMs - now),
    );
    this.arm(delay);
  }

  /** Cancels anything pending and waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private arm(delayMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.timer = null;
    this.firstRequestAt = null;
    this.dirty = false;
    let failed = false;
    this.running = this.run()
      .catch((error: unknown) => {
        failed = true;
        this.options.onError(error);
      })
      .finally(() => {
        this.running = null;
        if (this.closed) return;
        if (this.dirty) this.request();
        else if (failed) {
          this.dirty = true;
          this.arm(this.options.retryDelayMs);
        }
      });
  }
}
