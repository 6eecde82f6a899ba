/** The part of a grpc-js stream the writer needs. */
export interface WritableStream<T> {
  write(message: T): boolean;
  once(event: "drain", listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/**
 * Writes messages in order, honouring backpressure: once `write()` returns
 * false, nothing more is written until the stream emits 'drain'. Messages
 * queue meanwhile, since pushes are deltas and none may be skipped; the
 * session keeps that queue short by not computing new pushes while
 * `busy`, and `onDrained` tells it when everything went out.
 */
export class StreamWriter<T> {
  private readonly queue: T[] = [];
  private waitingForDrain = false;
  private closed = false;

  constructor(
    private readonly stream: WritableStream<T>,
    private readonly onDrained: () => void = () => {},
  ) {}

  write(message: T): void {
    if (this.closed) return;
    this.queue.push(message);
    this.pump();
  }

  /** Messages waiting for the stream to drain. */
  get backlog(): number {
    return this.queue.length;
  }

  /** True until the stream has taken everything written so far (drained included). */
  get busy(): boolean {
    return this.waitingForDrain || this.queue.length > 0;
  }

  /** Drops anything still queued; later writes are ignored. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.waitingForDrain && !this.closed) {
      if (this.stream.destroyed || this.stream.writableEnded) {
        this.close();
        return;
      }
      const next = this.queue.shift();
      if (next === undefined) return;
      if (!this.stream.write(next)) {
        this.waitingForDrain = true;
        this.stream.once("drain", () => {
          this.waitingForDrain = false;
          this.pump();
          if (!this.closed && !this.waitingForDrain && this.queue.length === 0) this.onDrained();
        });
      }
    }
  }
}
