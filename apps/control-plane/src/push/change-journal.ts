/** How many names the journal keeps across its entries; older entries are dropped first. */
export const JOURNAL_MAX_NAMES = 20_000;

interface Entry {
  revision: number;
  names: readonly string[];
}

/**
 * Which script names changed at which revision, for the last
 * `JOURNAL_MAX_NAMES` names changed. A stream last sent revision r asks for
 * the names changed after r and compares only those; one further behind than
 * the journal reaches (or a fresh stream) compares everything instead.
 * Streams usually sit at the same revision, so the last answer is kept.
 */
export class ChangeJournal {
  readonly #entries: Entry[] = [];
  #names = 0;
  /** The oldest revision the journal can answer from. */
  #floor: number;
  #last: { since: number; upTo: number; names: ReadonlySet<string> } | null = null;

  constructor(
    start: number,
    private readonly maxNames = JOURNAL_MAX_NAMES,
  ) {
    this.#floor = start;
  }

  record(revision: number, names: readonly string[]): void {
    this.#entries.push({ revision, names });
    this.#names += names.length;
    while (this.#names > this.maxNames && this.#entries.length > 1) {
      const dropped = this.#entries.shift()!;
      this.#names -= dropped.names.length;
      this.#floor = dropped.revision;
    }
  }

  /** Names changed after `revision`; null when that is before what the journal holds. */
  since(revision: number): ReadonlySet<string> | null {
    if (revision < this.#floor) return null;
    const upTo = this.#entries.at(-1)?.revision ?? this.#floor;
    if (this.#last?.since === revision && this.#last.upTo === upTo) return this.#last.names;
    const names = new Set<string>();
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (entry.revision <= revision) break;
      for (const name of entry.names) names.add(name);
    }
    this.#last = { since: revision, upTo, names };
    return names;
  }
}
