import type { Admission } from "./admission.js";

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
