import type { RequestTrace, TailFilter } from "@edge/protocol";

/**
 * One open tail: a bounded queue between the nodes (who push) and one HTTP
 * reader (who takes). When the reader is slow and the queue is full, new
 * traces are dropped and counted; the reader is told the count before the
 * next trace it gets. Drops reported by nodes add to the same count.
 */
export class TailSession {
  readonly #queue: RequestTrace[] = [];
  #dropped = 0;
  #closed = false;
  #onReadable: (() => void) | null = null;
  #onClose: (() => void) | null = null;

  constructor(
    readonly id: string,
    readonly script: string,
    readonly filter: TailFilter,
    readonly capacity: number,
    /** Called with every trace dropped here (for the control plane's own counter). */
    private readonly onDrop: (count: number) => void = () => {},
  ) {}

  /** A trace for this session; false when it was dropped. */
  push(trace: RequestTrace): boolean {
    if (this.#closed) return false;
    if (this.#queue.length >= this.capacity) {
      this.#dropped += 1;
      this.onDrop(1);
      this.#wake();
      return false;
    }
    this.#queue.push(trace);
    this.#wake();
    return true;
  }

  /** Traces a node dropped for this session. */
  addDropped(count: number): void {
    if (this.#closed || !(count > 0)) return;
    this.#dropped += count;
    this.#wake();
  }

  /** Takes up to `max` traces and the drop count since the last take. */
  take(max: number): { traces: RequestTrace[]; dropped: number } {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return { traces: this.#queue.splice(0, max), dropped };
  }

  get queued(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** `listener` runs whenever something new can be taken. */
  onReadable(listener: () => void): void {
    this.#onReadable = listener;
  }

  /** `listener` runs once when the session is closed (by its reader, or by the hub on shutdown). */
  onClose(listener: () => void): void {
    this.#onClose = listener;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#onReadable = null;
    const onClose = this.#onClose;
    this.#onClose = null;
    onClose?.();
  }

  #wake(): void {
    this.#onReadable?.();
  }
}
