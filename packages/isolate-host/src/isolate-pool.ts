import type { Logger } from "pino";
import type { WarmIsolate } from "./warm-isolate.js";

/** Scripts whose isolates are kept ready at once; the least recently used one gives way. */
const DEFAULT_MAX_KEYS = 16;
/** Memory the ready isolates may hold together (a script's top-level data is in each of its isolates). */
export const DEFAULT_MAX_IDLE_BYTES = 256 * 1024 * 1024;

type Build = () => Promise<WarmIsolate>;

interface Ready {
  warm: WarmIsolate;
  /** V8 heap plus external memory (ArrayBuffers) when it was built. */
  bytes: number;
}

interface Entry {
  idle: Ready[];
  building: number;
}

/**
 * Isolates built ahead of time, per hot script, so that a request does not
 * wait for isolate creation, runtime loading and the script's top-level code.
 * Each is handed out once, to one request, and never returns: every request
 * still gets a brand-new isolate that has never served another.
 */
export class IsolatePool {
  readonly #size: number;
  readonly #maxKeys: number;
  readonly #maxIdleBytes: number;
  #idleBytes = 0;
  readonly #logger: Logger;
  /** In least- to most-recently used order (Map iteration order, refreshed on use). */
  readonly #entries = new Map<string, Entry>();
  #disposed = false;

  constructor(
    size: number,
    logger: Logger,
    maxIdleBytes = DEFAULT_MAX_IDLE_BYTES,
    maxKeys = DEFAULT_MAX_KEYS,
  ) {
    this.#size = size;
    this.#maxKeys = maxKeys;
    this.#maxIdleBytes = maxIdleBytes;
    this.#logger = logger;
  }

  /** An isolate built ahead of time for this key, if one is ready. */
  take(key: string): WarmIsolate | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#touch(key, entry);
    const ready = entry.idle.pop();
    if (ready === undefined) return undefined;
    this.#idleBytes -= ready.bytes;
    return ready.warm;
  }

  /**
   * Starts building isolates for this key until `size` are ready or underway.
   * Call it when a request is done, not when it starts: building an isolate
   * takes the thread for a few milliseconds.
   */
  fill(key: string, build: Build): void {
    if (this.#disposed || this.#size === 0) return;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { idle: [], building: 0 };
      this.#entries.set(key, entry);
      this.#evict();
    }
    for (; entry.idle.length + entry.building < this.#size; entry.building++) {
      // One per event-loop turn, so requests get in between.
      const target = entry;
      setImmediate(() => this.#buildInto(key, target, build));
    }
  }

  /** Drops a key's ready isolates (its script is gone). */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    for (const ready of entry.idle.splice(0)) {
      this.#idleBytes -= ready.bytes;
      ready.warm.isolate.dispose();
    }
  }

  dispose(): void {
    this.#disposed = true;
    for (const key of [...this.#entries.keys()]) this.forget(key);
  }

  #touch(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #evict(): void {
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value as string;
      this.forget(oldest);
    }
  }

  #buildInto(key: string, entry: Entry, build: Build): void {
    if (this.#disposed || this.#entries.get(key) !== entry) {
      entry.building--;
      return;
    }
    build().then(
      (warm) => {
        entry.building--;
        // Forgotten or evicted meanwhile: nobody will take it.
        if (this.#disposed || this.#entries.get(key) !== entry) {
          warm.isolate.dispose();
          return;
        }
        const bytes = footprint(warm);
        if (this.#idleBytes + bytes > this.#maxIdleBytes) {
          // Over budget: that script's requests build their isolates on demand meanwhile.
          this.#logger.debug({ key, bytes, idleBytes: this.#idleBytes }, "no room to keep a built isolate");
          warm.isolate.dispose();
          return;
        }
        this.#idleBytes += bytes;
        entry.idle.push({ warm, bytes });
      },
      (err: unknown) => {
        entry.building--;
        this.#logger.debug({ err, key }, "could not build an isolate ahead of time");
      },
    );
  }
}

function footprint(warm: WarmIsolate): number {
  if (warm.isolate.isDisposed) return 0;
  const stats = warm.isolate.getHeapStatisticsSync();
  return stats.used_heap_size + stats.externally_allocated_size;
}
