export interface CoalescerOptions {
  /**
   * The batching window: a run starts at once when none started within the
   * last `windowMs`, otherwise when the window ends. A burst of requests thus
   * costs one run per window, and a lone request is not delayed at all.
   */
  windowMs: number;
  /** Wait before retrying after `run` failed. */
  retryDelayMs: number;
  onError(error: unknown): void;
  now?: () => number;
}

/**
 * Turns bursts of `request()` into few `run()`s (change batching): never two
 * runs at once, at most one start per window, and a request that arrives
 * during a run gets a run of its own afterwards (so the last change is always
 * covered). A run that resolves `false` (it found nothing to do) does not use
 * up the window. A failed run is retried until one succeeds or a newer
 * request supersedes it.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;
  private dirty = false;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly options: CoalescerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  request(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.running !== null || this.timer !== null) return;
    this.arm(Math.max(0, this.lastStart + this.options.windowMs - this.now()));
  }

  /** Cancels anything pending and waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.timer = null;
    this.dirty = false;
    const previousStart = this.lastStart;
    this.lastStart = this.now();
    let failed = false;
    this.running = this.run()
      .then((worked) => {
        if (worked === false) this.lastStart = previousStart;
      })
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
