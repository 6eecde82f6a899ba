import { availableParallelism } from "node:os";
import { RunError } from "./errors.js";

export interface AdmissionOptions {
  /** Requests running JavaScript (or about to) at once. Default: two per core. */
  concurrency: number;
  /** Requests waiting for a slot before new ones get EDGE_OVERLOADED. Default 1024. */
  maxQueue: number;
  /** Slots one script may hold at once, so it cannot take a node's capacity. Default: half of `concurrency`. */
  perScript: number;
  /** Requests of one script alive at once (each holds an isolate), past which EDGE_OVERLOADED. Default 256. */
  maxInFlightPerScript: number;
}

/** The defaults filled in. */
export function admissionOf(options: { admission?: Partial<AdmissionOptions> }): AdmissionOptions {
  // Two per core keeps a core busy while another request's isolate is handed over.
  const concurrency = options.admission?.concurrency ?? 2 * availableParallelism();
  return {
    concurrency,
    maxQueue: options.admission?.maxQueue ?? 1024,
    perScript: options.admission?.perScript ?? Math.max(1, Math.ceil(concurrency / 2)),
    maxInFlightPerScript: options.admission?.maxInFlightPerScript ?? 256,
  };
}

interface Waiter {
  key: string;
  resolve(): void;
}

/**
 * Bounds how many requests run JavaScript in isolates at once on this thread.
 *
 * isolated-vm runs each isolate's work on its own thread pool and, when every
 * pool thread is busy, on a new thread per task, so a burst of requests would
 * put hundreds of threads on a few cores. It also times an isolate's work
 * with a wall clock while that work runs, so every descheduled moment would
 * be charged as CPU time and ordinary scripts would hit their CPU limit under
 * load. Requests instead wait here, unclocked, for a slot. A request holds a
 * slot only while it runs JavaScript or is about to (its isolate being built,
 * its handler called, a timer or subrequest result delivered); once the
 * isolate is idle and waiting on the host it gives the slot back and takes
 * one again for the next delivery (see run-slot.ts). One script (`key`)
 * holds at most `perScript` slots; past `maxQueue` waiting requests the node
 * is overloaded: EDGE_OVERLOADED.
 */
export class Admission {
  readonly #capacity: number;
  readonly #maxQueue: number;
  readonly #perKey: number;
  readonly #waiting: Waiter[] = [];
  readonly #held = new Map<string, number>();
  #active = 0;

  constructor(capacity: number, maxQueue: number, perKey = capacity) {
    this.#capacity = Math.max(1, Math.floor(capacity));
    this.#maxQueue = Math.max(0, Math.floor(maxQueue));
    this.#perKey = Math.max(1, Math.min(this.#capacity, Math.floor(perKey)));
  }

  /**
   * Resolves, once a slot is free for `key`, with the function that frees it
   * (idempotent). `alwaysQueue` waits even past `maxQueue` (for work that must
   * not be refused); `signal` gives up waiting (rejects with its reason).
   */
  async enter(
    options: { key?: string; alwaysQueue?: boolean; signal?: AbortSignal } = {},
  ): Promise<() => void> {
    const key = options.key ?? "";
    options.signal?.throwIfAborted();
    if (this.#active < this.#capacity && this.#heldBy(key) < this.#perKey) this.#take(key);
    else {
      if (options.alwaysQueue !== true && this.#waiting.length >= this.#maxQueue) {
        throw new RunError(
          "EDGE_OVERLOADED",
          `The node is overloaded: ${this.#waiting.length} requests are already waiting for an isolate`,
        );
      }
      // The slot is taken for us by #handOver(), so it stays counted.
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { key, resolve };
        this.#waiting.push(waiter);
        const signal = options.signal;
        if (signal === undefined) return;
        const onAbort = (): void => {
          const index = this.#waiting.indexOf(waiter);
          if (index < 0) return;
          this.#waiting.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.resolve = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
      });
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#active--;
      const held = this.#heldBy(key) - 1;
      if (held > 0) this.#held.set(key, held);
      else this.#held.delete(key);
      this.#handOver();
    };
  }

  /** Requests holding a slot, and requests waiting for one. */
  get load(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }

  #heldBy(key: string): number {
    return this.#held.get(key) ?? 0;
  }

  #take(key: string): void {
    this.#active++;
    this.#held.set(key, this.#heldBy(key) + 1);
  }

  /** Gives free slots to the longest-waiting requests whose script is under its share. */
  #handOver(): void {
    for (let i = 0; i < this.#waiting.length && this.#active < this.#capacity; ) {
      const waiter = this.#waiting[i]!;
      if (this.#heldBy(waiter.key) >= this.#perKey) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#take(waiter.key);
      waiter.resolve();
    }
  }
}
