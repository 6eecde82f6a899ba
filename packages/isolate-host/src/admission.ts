import { availableParallelism } from "node:os";
import { RunError } from "./errors.js";

export interface AdmissionOptions {
  /** Requests building their isolate or computing before their first wait, at once. Default: two per core. */
  concurrency: number;
  /** Requests waiting for a slot before new ones get EDGE_OVERLOADED. Default 1024. */
  maxQueue: number;
}

/** The defaults filled in. */
export function admissionOf(options: { admission?: Partial<AdmissionOptions> }): AdmissionOptions {
  return {
    // Two per core keeps a core busy while another request's isolate is handed over.
    concurrency: options.admission?.concurrency ?? 2 * availableParallelism(),
    maxQueue: options.admission?.maxQueue ?? 1024,
  };
}

/**
 * Bounds how many requests are starting in isolates at once on this thread.
 *
 * isolated-vm runs each isolate's work on its own thread pool and, when every
 * pool thread is busy, on a new thread per task, so a burst of requests would
 * put hundreds of threads on a few cores. It also times an isolate's work
 * with a wall clock while that work runs, so every descheduled moment would
 * be charged as CPU time and ordinary scripts would hit their CPU limit under
 * load. Requests instead wait here, unclocked, for a slot; a request holds
 * its slot while its isolate is built and its script computes, and gives it
 * up once the response head is ready or the script first waits on the host
 * (a subrequest or a timer), so I/O-bound scripts do not hold others back.
 * Past `maxQueue` waiting requests the node is overloaded: EDGE_OVERLOADED.
 */
export class Admission {
  readonly #capacity: number;
  readonly #maxQueue: number;
  readonly #waiting: Array<() => void> = [];
  #active = 0;

  constructor(capacity: number, maxQueue: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
    this.#maxQueue = Math.max(0, Math.floor(maxQueue));
  }

  /**
   * Resolves, once a slot is free, with the function that frees it (idempotent).
   * `alwaysQueue` waits even past `maxQueue` (for work that must not be refused).
   */
  async enter(options: { alwaysQueue?: boolean } = {}): Promise<() => void> {
    if (this.#active < this.#capacity) this.#active++;
    else {
      if (options.alwaysQueue !== true && this.#waiting.length >= this.#maxQueue) {
        throw new RunError(
          "EDGE_OVERLOADED",
          `The node is overloaded: ${this.#waiting.length} requests are already waiting for an isolate`,
        );
      }
      // The slot is handed over by leave(), so #active stays counted for us.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next();
    };
  }

  /** Requests holding a slot, and requests waiting for one. */
  get load(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }
}
