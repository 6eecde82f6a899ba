/** Per-namespace KV operation counters of one node (reads, hits, misses, lists, writes). */
export interface KvNamespaceCounts {
  reads: number;
  misses: number;
  lists: number;
  writes: number;
}

export class KvStats {
  readonly #byNamespace = new Map<string, KvNamespaceCounts>();

  #of(namespaceId: string): KvNamespaceCounts {
    let counts = this.#byNamespace.get(namespaceId);
    if (counts === undefined) {
      counts = { reads: 0, misses: 0, lists: 0, writes: 0 };
      this.#byNamespace.set(namespaceId, counts);
    }
    return counts;
  }

  read(namespaceId: string, hit: boolean): void {
    const counts = this.#of(namespaceId);
    counts.reads += 1;
    if (!hit) counts.misses += 1;
  }

  list(namespaceId: string): void {
    this.#of(namespaceId).lists += 1;
  }

  wrote(namespaceId: string, mutations: number): void {
    this.#of(namespaceId).writes += mutations;
  }

  /** Totals since start, by namespace id. */
  snapshot(): ReadonlyMap<string, Readonly<KvNamespaceCounts>> {
    return this.#byNamespace;
  }
}
