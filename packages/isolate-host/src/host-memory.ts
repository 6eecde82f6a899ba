/**
 * Bytes the host holds for scripts outside their isolates (subrequest
 * response bodies being read, before they are handed in), bounded per
 * request (the script's memory limit) and per runner thread, so concurrent
 * requests cannot grow the node's memory through the host.
 */
export class HostMemory {
  readonly #max: number;
  #used = 0;

  constructor(maxBytes: number) {
    this.#max = Math.max(0, Math.floor(maxBytes));
  }

  get used(): number {
    return this.#used;
  }

  /** An account for one request, holding at most `requestMax` bytes at once. */
  account(requestMax: number): HostBytes {
    let held = 0;
    return {
      take: (bytes) => {
        if (held + bytes > requestMax) return "request";
        if (this.#used + bytes > this.#max) return "node";
        held += bytes;
        this.#used += bytes;
        return null;
      },
      release: (bytes) => {
        const freed = Math.min(bytes, held);
        held -= freed;
        this.#used -= freed;
      },
      releaseAll: () => {
        this.#used -= held;
        held = 0;
      },
    };
  }
}

export interface HostBytes {
  /** Takes `bytes`, or says which bound refused them (nothing taken then). */
  take(bytes: number): "request" | "node" | null;
  release(bytes: number): void;
  releaseAll(): void;
}

/** Unlimited, for code paths outside a request. */
export const UNBOUNDED_HOST_BYTES: HostBytes = {
  take: () => null,
  release: () => {},
  releaseAll: () => {},
};

export const DEFAULT_MAX_HOST_BYTES = 512 * 1024 * 1024;
