import type { Admission } from "./admission.js";
import { RunError } from "./errors.js";

/**
 * One request's admission slot while its fetch handler has not produced a
 * response: held while the isolate runs JavaScript, given back while the
 * script only waits on the host (a timer, a subrequest), taken again before
 * the host delivers the next result. close() gives it back for good (the
 * response head is ready, or the run ended).
 */
export class RunSlot {
  readonly #admission: Admission;
  readonly #key: string;
  #leave: (() => void) | null;
  #closed = false;

  /** Starts holding the slot `leave` frees. */
  constructor(admission: Admission, key: string, leave: () => void) {
    this.#admission = admission;
    this.#key = key;
    this.#leave = leave;
  }

  get held(): boolean {
    return this.#leave !== null;
  }

  /** Takes a slot again (waiting, never refused: the request is already running) unless it is held or closed. */
  async hold(): Promise<void> {
    if (this.#closed || this.#leave !== null) return;
    const leave = await this.#admission.enter({ key: this.#key, alwaysQueue: true });
    if (this.#closed || this.#leave !== null) leave();
    else this.#leave = leave;
  }

  release(): void {
    const leave = this.#leave;
    this.#leave = null;
    leave?.();
  }

  close(): void {
    this.#closed = true;
    this.release();
  }
}

/**
 * Requests of each script alive on this runner at once (waiting for a slot,
 * running, or waiting on the host), bounded: every one holds an isolate, so
 * one script's many waiting requests cannot fill the node's memory.
 */
export class ScriptInFlight {
  readonly #max: number;
  readonly #count = new Map<string, number>();

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** Counts a request in, or throws EDGE_OVERLOADED; returns the (idempotent) function counting it out. */
  begin(key: string): () => void {
    const now = this.#count.get(key) ?? 0;
    if (now >= this.#max) {
      throw new RunError(
        "EDGE_OVERLOADED",
        `The script already has ${now} requests in flight on this node; retry shortly`,
      );
    }
    this.#count.set(key, now + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#count.get(key) ?? 1) - 1;
      if (left > 0) this.#count.set(key, left);
      else this.#count.delete(key);
    };
  }
}
