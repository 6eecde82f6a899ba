import type { IsolateRunner, PreparedScript } from "@edge/isolate-host";
import type { ConfigPush, ResourceError, Script } from "@edge/protocol";
import type { Logger } from "pino";

/** A script version this node can serve right now. */
export interface ActiveScript {
  name: string;
  version: number;
  sha256: string;
  prepared: PreparedScript;
}

/**
 * The scripts this node serves, keyed by name. Pushes are applied per
 * resource: a version that fails to prepare is reported back (NACK) and the
 * previous good version of that script keeps serving.
 */
export class ScriptRegistry {
  readonly #scripts = new Map<string, ActiveScript>();
  readonly #runner: IsolateRunner;
  readonly #log: Logger;
  #configVersion = 0;

  constructor(runner: IsolateRunner, logger: Logger) {
    this.#runner = runner;
    this.#log = logger.child({ component: "registry" });
  }

  get(name: string): ActiveScript | undefined {
    return this.#scripts.get(name);
  }

  get configVersion(): number {
    return this.#configVersion;
  }

  /** Script name -> version held, as sent in the agent's hello. */
  heldVersions(): Record<string, number> {
    const held: Record<string, number> = {};
    for (const [name, script] of this.#scripts) held[name] = script.version;
    return held;
  }

  /** Applies one push and returns the scripts it rejected. */
  async apply(push: ConfigPush): Promise<ResourceError[]> {
    const errors: ResourceError[] = [];
    const prepared = await Promise.all(push.upserts.map((script) => this.#prepare(script, errors)));
    if (push.full) {
      const wanted = new Set(push.upserts.map((s) => s.name));
      for (const name of this.#scripts.keys()) if (!wanted.has(name)) this.#scripts.delete(name);
    }
    for (const active of prepared) if (active) this.#scripts.set(active.name, active);
    for (const name of push.removals) this.#scripts.delete(name);
    this.#configVersion = push.configVersion;
    this.#log.info(
      {
        configVersion: push.configVersion,
        full: push.full,
        upserts: push.upserts.length - errors.length,
        removals: push.removals.length,
        rejected: errors.length,
      },
      "config applied",
    );
    return errors;
  }

  async #prepare(script: Script, errors: ResourceError[]): Promise<ActiveScript | null> {
    const current = this.#scripts.get(script.name);
    if (current && current.version === script.version && current.sha256 === script.sha256) return current;
    try {
      const prepared = await this.#runner.prepare({
        name: script.name,
        version: script.version,
        source: script.source,
        vars: script.vars,
        limits: script.limits ?? { cpuMs: 0, memoryMb: 0, wallMs: 0 },
      });
      return { name: script.name, version: script.version, sha256: script.sha256, prepared };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.#log.warn({ script: script.name, version: script.version, err: detail }, "script rejected");
      errors.push({ name: script.name, version: script.version, errorDetail: detail });
      return null;
    }
  }
}
