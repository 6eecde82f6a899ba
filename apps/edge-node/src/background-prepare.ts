import type { LazyScript } from "./lazy-script.js";

/**
 * Prepares versions ahead of their first request, one at a time, so at most
 * one admission slot goes to this while requests take the others. Used for
 * the new versions of a bulk push whose previous version was hot (prepared
 * when the push came): their next request most likely comes soon. A request
 * that arrives first shares the same preparation (LazyScript); a failure is
 * the version's (logged, and answered to its requests), never this queue's.
 */
export class BackgroundPreparer {
  readonly #queue: LazyScript[] = [];
  #running: Promise<void> | null = null;
  #closed = false;

  add(versions: Iterable<LazyScript>): void {
    if (this.#closed) return;
    this.#queue.push(...versions);
    if (this.#queue.length === 0) return;
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
  }

  /** Resolves once the queue is empty. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /** Drops what waits; the preparation running finishes. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    await this.idle();
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      if (next.isPrepared || next.isRetired) continue;
      await next.prepare().catch(() => {});
    }
  }
}
