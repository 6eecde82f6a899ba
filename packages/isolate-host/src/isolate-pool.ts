import type { Logger } from "pino";
import type { WarmIsolate } from "./warm-isolate.js";

/** What an isolate is built for: its memory limit (fixed at creation) and whether URL support is preloaded. */
export interface IsolateKind {
  memoryMb: number;
  preloadUrl: boolean;
}

/** At most this many kinds keep isolates ready; others are built on demand. */
const MAX_POOLED_KINDS = 4;

type Build = (kind: IsolateKind) => Promise<WarmIsolate>;

/**
 * A few isolates built ahead of time, per kind, so that a request does not
 * wait for isolate creation and runtime loading, the bulk of a fresh
 * isolate's cost. Each is handed out once, to one request, and never returns:
 * every request still gets a brand-new isolate that has never run script code.
 */
export class IsolatePool {
  readonly #size: number;
  readonly #build: Build;
  readonly #logger: Logger;
  readonly #idle = new Map<string, WarmIsolate[]>();
  readonly #building = new Map<string, number>();
  #disposed = false;

  constructor(size: number, build: Build, logger: Logger) {
    this.#size = size;
    this.#build = build;
    this.#logger = logger;
  }

  /**
   * An isolate built ahead of time when one is ready, else one built now;
   * built now, it skips preloading, which the script then does lazily if needed.
   */
  async acquire(kind: IsolateKind): Promise<WarmIsolate> {
    return this.#idle.get(keyOf(kind))?.pop() ?? this.#build({ ...kind, preloadUrl: false });
  }

  /**
   * Starts building isolates of this kind until `size` are ready or underway.
   * Call it when a request is done, not when it starts: creating an isolate
   * blocks the event loop for a few milliseconds.
   */
  fill(kind: IsolateKind): void {
    if (this.#disposed || this.#size === 0) return;
    const key = keyOf(kind);
    if (!this.#idle.has(key)) {
      if (this.#idle.size >= MAX_POOLED_KINDS) return;
      this.#idle.set(key, []);
    }
    const idle = this.#idle.get(key)!;
    let building = this.#building.get(key) ?? 0;
    for (; idle.length + building < this.#size; building++) {
      // One per event-loop turn, so requests get in between.
      setImmediate(() => this.#buildInto(kind, key, idle));
    }
    this.#building.set(key, building);
  }

  dispose(): void {
    this.#disposed = true;
    for (const idle of this.#idle.values()) for (const warm of idle.splice(0)) warm.isolate.dispose();
  }

  #buildInto(kind: IsolateKind, key: string, idle: WarmIsolate[]): void {
    const done = (): void => {
      this.#building.set(key, (this.#building.get(key) ?? 1) - 1);
    };
    if (this.#disposed) {
      done();
      return;
    }
    this.#build(kind).then(
      (warm) => {
        done();
        if (this.#disposed) warm.isolate.dispose();
        else idle.push(warm);
      },
      (err: unknown) => {
        done();
        this.#logger.warn({ err, kind }, "could not build an isolate ahead of time");
      },
    );
  }
}

function keyOf(kind: IsolateKind): string {
  return `${kind.memoryMb}:${kind.preloadUrl}`;
}
