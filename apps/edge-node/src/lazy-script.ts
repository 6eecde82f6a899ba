import { isRunError, type PreparedScript } from "@edge/isolate-host";
import type { Script } from "@edge/protocol";

/**
 * One script version the node holds: stored always, prepared (compiled,
 * evaluated once, isolates built ahead of time by the runner) only once
 * something needs it — its first request, the small push that delivered it,
 * or the background preparation of a bulk push's hot versions — and dropped
 * again when it has been idle longest among more prepared versions than the
 * node keeps (see PreparedLru). Concurrent first requests share one
 * preparation; a failure that load can explain is not remembered (the next
 * request tries again), the script's own failure is.
 */
export class LazyScript {
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly wire: Script;
  readonly #prepareNow: (script: Script) => Promise<PreparedScript>;
  readonly #lru: PreparedLru;
  #prepared: PreparedScript | null = null;
  #pending: Promise<PreparedScript> | null = null;
  #failure: unknown = null;
  #retired = false;

  constructor(wire: Script, prepareNow: (script: Script) => Promise<PreparedScript>, lru: PreparedLru) {
    this.name = wire.name;
    this.version = wire.version;
    this.sha256 = wire.sha256;
    this.wire = wire;
    this.#prepareNow = prepareNow;
    this.#lru = lru;
  }

  /** No release holds this version any more. */
  get isRetired(): boolean {
    return this.#retired;
  }

  /** Whether the runner holds this version prepared right now. */
  get isPrepared(): boolean {
    return this.#prepared !== null;
  }

  /**
   * The runner's handle for this version, prepared now if it is not. Rejects
   * with the script's own failure (remembered for the version) or with a
   * failure load can explain (after the registry's retries; not remembered).
   */
  prepare(): Promise<PreparedScript> {
    if (this.#prepared !== null) {
      this.#lru.touch(this);
      return Promise.resolve(this.#prepared);
    }
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#pending ??= this.#prepareNow(this.wire).then(
      (prepared) => {
        this.#pending = null;
        // A version no release holds any more serves the requests that asked, and is not kept.
        if (this.#retired) return prepared;
        this.#prepared = prepared;
        this.#lru.touch(this);
        return prepared;
      },
      (err: unknown) => {
        this.#pending = null;
        if (!isTransientPrepareFailure(err)) this.#failure = err;
        throw err;
      },
    );
    return this.#pending;
  }

  /** Lets the runner free what it keeps for this version (requests running keep their own handle). */
  drop(): void {
    this.#prepared = null;
    this.#lru.remove(this);
  }

  /** No release holds this version any more: dropped, and a preparation still running is not kept. */
  retire(): void {
    this.#retired = true;
    this.drop();
  }
}

/**
 * Failures that can come from load rather than from the script (isolated-vm's
 * CPU clock runs while a thread is descheduled; a busy node queues): a
 * prepare that fails so is tried again with backoff before the version is
 * rejected. A syntax error, a missing default export or a top-level throw
 * is the script's own and is rejected at once.
 */
const TRANSIENT_CODES = new Set([
  "EDGE_CPU_LIMIT",
  "EDGE_WALL_LIMIT",
  "EDGE_STARTUP_LIMIT",
  "EDGE_OVERLOADED",
]);

export function isTransientPrepareFailure(err: unknown): boolean {
  return !isRunError(err) || TRANSIENT_CODES.has(err.code);
}

/**
 * The prepared versions, least recently used first. Past `max`, the oldest
 * is dropped: memory follows the hot set, not everything the node holds.
 */
export class PreparedLru {
  readonly #max: number;
  readonly #order = new Set<LazyScript>();

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  get size(): number {
    return this.#order.size;
  }

  touch(script: LazyScript): void {
    this.#order.delete(script);
    this.#order.add(script);
    while (this.#order.size > this.#max) {
      const oldest = this.#order.values().next().value as LazyScript;
      oldest.drop();
    }
  }

  remove(script: LazyScript): void {
    this.#order.delete(script);
  }
}
