import { type IsolateRunner, isRunError, type ModuleType, type PreparedScript } from "@edge/isolate-host";
import { type ConfigPush, type ResourceError, releaseKey, type Script } from "@edge/protocol";
import type { Logger } from "pino";
import type { CachedConfig } from "./cache/config-cache.js";
import { canaryBucket } from "./traffic-split.js";

/** A script version this node can serve right now. */
export interface ActiveScript {
  name: string;
  version: number;
  sha256: string;
  prepared: PreparedScript;
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
/** Waits before each new attempt at a transient failure (then the version is rejected). */
export const PREPARE_RETRY_DELAYS_MS: readonly number[] = [250, 1_000, 3_000];

export function isTransientPrepareFailure(err: unknown): boolean {
  return !isRunError(err) || TRANSIENT_CODES.has(err.code);
}

/** What the node runs for one script name: a version, and during a gradual rollout a canary. */
interface Release {
  key: string;
  stable: ActiveScript;
  canary: (ActiveScript & { percent: number }) | null;
  /** As received (the canary inside), for the cache. */
  wire: Script;
}

/**
 * The scripts this node serves, keyed by name. Pushes are applied per
 * resource and make-before-break: every upserted version is prepared first,
 * then the releases are switched in one step, then removals go; a version
 * that fails to prepare is reported back (NACK) and the script keeps its
 * previous release. A rejected release is remembered (and persisted) so the
 * node tells every control plane it connects to not to send it again.
 */
export class ScriptRegistry {
  readonly #releases = new Map<string, Release>();
  readonly #rejected = new Map<string, string>();
  readonly #runner: IsolateRunner;
  readonly #log: Logger;
  readonly #onChange: () => void;
  readonly #retryDelays: readonly number[];
  /** Script name -> why its latest version is being prepared again. */
  readonly #retrying = new Map<string, string>();
  #configVersion = 0;

  constructor(
    runner: IsolateRunner,
    logger: Logger,
    onChange: () => void = () => {},
    retryDelaysMs: readonly number[] = PREPARE_RETRY_DELAYS_MS,
  ) {
    this.#runner = runner;
    this.#log = logger.child({ component: "registry" });
    this.#onChange = onChange;
    this.#retryDelays = retryDelaysMs;
  }

  /** Script name -> the transient failure its version is being retried after, while that lasts. */
  retrying(): Record<string, string> {
    return Object.fromEntries(this.#retrying);
  }

  /**
   * The version serving this request: the canary for the clients a gradual
   * rollout picked (by a hash of `clientKey`, so a client keeps one version),
   * the stable one otherwise, or for requests without a client key.
   */
  get(name: string, clientKey?: string): ActiveScript | undefined {
    const release = this.#releases.get(name);
    if (!release) return undefined;
    const canary = release.canary;
    if (canary !== null && clientKey !== undefined && canaryBucket(name, clientKey) < canary.percent) {
      return canary;
    }
    return release.stable;
  }

  get configVersion(): number {
    return this.#configVersion;
  }

  /** Script name -> stable version held, as sent in the agent's hello (for older control planes). */
  heldVersions(): Record<string, number> {
    const held: Record<string, number> = {};
    for (const [name, release] of this.#releases) held[name] = release.stable.version;
    return held;
  }

  /** Script name -> release key held, as sent in the agent's hello. */
  heldReleases(): Record<string, string> {
    const held: Record<string, string> = {};
    for (const [name, release] of this.#releases) held[name] = release.key;
    return held;
  }

  /** Script name -> release key this node rejected and still refuses. */
  rejectedReleases(): Record<string, string> {
    return Object.fromEntries(this.#rejected);
  }

  /** What the cache persists. */
  snapshot(): CachedConfig {
    return {
      configVersion: this.#configVersion,
      scripts: [...this.#releases.values()].map((release) => release.wire),
      rejected: this.rejectedReleases(),
    };
  }

  /** Applies one push and returns the scripts it rejected. */
  async apply(push: ConfigPush): Promise<ResourceError[]> {
    const errors: ResourceError[] = [];
    // Make: prepare everything new before anything changes, so a request never meets a half-applied push.
    const prepared = await Promise.all(push.upserts.map((script) => this.#prepare(script, errors)));
    // Break: switch, then drop what is gone.
    if (push.full) {
      const wanted = new Set(push.upserts.map((s) => s.name));
      for (const name of this.#releases.keys()) if (!wanted.has(name)) this.#releases.delete(name);
    }
    for (const release of prepared) {
      if (!release) continue;
      this.#releases.set(release.stable.name, release);
      this.#rejected.delete(release.stable.name);
    }
    for (const name of push.removals) {
      this.#releases.delete(name);
      this.#rejected.delete(name);
    }
    for (const error of errors) {
      const rejected = push.upserts.find((s) => s.name === error.name);
      if (rejected) this.#rejected.set(error.name, releaseKey(rejected));
    }
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
    this.#onChange();
    return errors;
  }

  /**
   * Loads a cached config at start-up, before any control plane is reached.
   * A script that no longer prepares (a stricter runtime, say) is left out.
   */
  async restore(cached: CachedConfig): Promise<{ restored: number; failed: number }> {
    const errors: ResourceError[] = [];
    const prepared = await Promise.all(cached.scripts.map((script) => this.#prepare(script, errors)));
    for (const release of prepared) if (release) this.#releases.set(release.stable.name, release);
    for (const [name, key] of Object.entries(cached.rejected)) this.#rejected.set(name, key);
    this.#configVersion = cached.configVersion;
    const restored = prepared.filter(Boolean).length;
    this.#log.info(
      { configVersion: cached.configVersion, restored, failed: errors.length },
      "cached config restored",
    );
    return { restored, failed: errors.length };
  }

  async #prepare(script: Script, errors: ResourceError[]): Promise<Release | null> {
    const key = releaseKey(script);
    const current = this.#releases.get(script.name);
    if (current && current.key === key && current.stable.sha256 === script.sha256) return current;
    const canaryWire = script.canary?.script;
    try {
      const stable = await this.#version(script, current);
      let canary: Release["canary"] = null;
      if (canaryWire !== undefined) {
        try {
          canary = { ...(await this.#version(canaryWire, current)), percent: script.canary?.percent ?? 0 };
        } catch (err) {
          throw Object.assign(asError(err), { version: canaryWire.version });
        }
      }
      return { key, stable, canary, wire: script };
    } catch (err) {
      const detail = asError(err).message;
      const version = (err as { version?: number }).version ?? script.version;
      this.#log.warn({ script: script.name, version, err: detail }, "script rejected");
      errors.push({ name: script.name, version, errorDetail: detail });
      return null;
    }
  }

  /** A prepared version, reusing what the current release already has prepared for it. */
  async #version(script: Script, current: Release | undefined): Promise<ActiveScript> {
    for (const held of [current?.stable, current?.canary]) {
      if (held && held.version === script.version && held.sha256 === script.sha256) return held;
    }
    const prepared = await this.#prepareWithRetries(script);
    return { name: script.name, version: script.version, sha256: script.sha256, prepared };
  }

  /** runner.prepare(), tried again with backoff while it fails in a way load can explain. */
  async #prepareWithRetries(script: Script): Promise<PreparedScript> {
    for (let attempt = 0; ; attempt++) {
      try {
        const prepared = await this.#runner.prepare({
          name: script.name,
          version: script.version,
          source: script.source,
          ...(script.mainModule ? { mainModule: script.mainModule } : {}),
          modules: (script.modules ?? []).map((m) => ({
            name: m.name,
            type: m.type as ModuleType,
            content: m.content,
          })),
          vars: script.vars,
          kvBindings: script.kvBindings ?? {},
          limits: script.limits ?? { cpuMs: 0, memoryMb: 0, wallMs: 0 },
        });
        this.#retrying.delete(script.name);
        return prepared;
      } catch (err) {
        const delay = this.#retryDelays[attempt];
        if (delay === undefined || !isTransientPrepareFailure(err)) {
          this.#retrying.delete(script.name);
          throw err;
        }
        const reason = asError(err).message;
        this.#retrying.set(script.name, reason);
        this.#log.warn(
          {
            script: script.name,
            version: script.version,
            attempt: attempt + 1,
            err: reason,
            retryInMs: delay,
          },
          "script failed to prepare in a way load can cause; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
