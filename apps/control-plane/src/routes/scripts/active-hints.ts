import type { ScriptVersion } from "../../store/types.js";

/** What a deploy that leaves some settings alone takes from the active version. */
export type ActiveSettings = Pick<ScriptVersion, "version" | "vars" | "secrets" | "bindings" | "crons">;

/** How many scripts a replica remembers; the least recently written is forgotten first. */
export const MAX_HINTS = 10_000;

/**
 * Per script, the settings of the version this replica last saw active: a
 * deploy starts from them instead of reading the active version again (a
 * store round trip per deploy). Only a hint, never trusted: the put stays
 * conditional on that version still being active (`ifActive`), and a stored
 * version never changes, so a stale hint (a rollback, a settings change or a
 * deploy through another replica) costs one refused put, then a fresh read.
 */
export class ActiveHints {
  readonly #hints = new Map<string, ActiveSettings>();

  constructor(private readonly max = MAX_HINTS) {}

  get(name: string): ActiveSettings | undefined {
    return this.#hints.get(name);
  }

  remember(name: string, version: ActiveSettings | null): void {
    this.#hints.delete(name);
    if (version === null) return;
    const { version: number, vars, secrets, bindings, crons } = version;
    this.#hints.set(name, { version: number, vars, secrets, bindings, crons });
    if (this.#hints.size > this.max) {
      const oldest = this.#hints.keys().next().value;
      if (oldest !== undefined) this.#hints.delete(oldest);
    }
  }

  forget(name: string): void {
    this.#hints.delete(name);
  }
}
