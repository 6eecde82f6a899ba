import type { IsolateRunner, ModuleType, PreparedScript } from "@edge/isolate-host";
import { type ConfigPush, type ResourceError, releaseKey, type Script } from "@edge/protocol";
import type { Logger } from "pino";
import type { CachedConfig } from "./cache/config-cache.js";
import { isTransientPrepareFailure, LazyScript, PreparedLru } from "./lazy-script.js";
import { canaryBucket } from "./traffic-split.js";

/** A script version this node can serve: held always, prepared on first use (see LazyScript). */
export type ActiveScript = LazyScript;

export { isTransientPrepareFailure };

/** Waits before each new attempt at a transient failure (then the version is rejected). */
export const PREPARE_RETRY_DELAYS_MS: readonly number[] = [250, 1_000, 3_000];

/** Prepared versions kept by default before the least recently used is dropped. */
export const DEFAULT_MAX_PREPARED = 1_000;

/** What the node runs for one script name: a version, and during a gradual rollout a canary. */
interface Release {
  key: string;
  stable: LazyScript;
  canary: { script: LazyScript; percent: number } | null;
  /** As received (the canary inside), for the cache. */
  wire: Script;
}

/**
 * The scripts this node serves, keyed by name. Pushes are applied per
 * resource and make-before-break: every upserted version is prepared first
 * (that is what an ACK promises: it compiled, its top-level code ran, it has
 * a fetch handler), then the releases are switched in one step, then
 * removals go; a version that fails to prepare is reported back (NACK) and
 * the script keeps its previous release. Versions restored from the cache
 * at start are only stored (they were prepared when first ACKed) and are
 * prepared on their first request; prepared versions past `maxPrepared` are
 * dropped least recently used first, and prepared again when asked for.
 * A rejected release is remembered (and persisted) so the node tells every
 * control plane it connects to not to send it again.
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
  readonly #lru: PreparedLru;
  #configVersion = 0;

  constructor(
    runner: IsolateRunner,
    logger: Logger,
    onChange: () => void = () => {},
    retryDelaysMs: readonly number[] = PREPARE_RETRY_DELAYS_MS,
    maxPrepared: number = DEFAULT_MAX_PREPARED,
  ) {
    this.#lru = new PreparedLru(maxPrepared);
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
      return canary.script;
    }
    return release.stable;
  }

  /** How many versions the runner holds prepared now (the rest are only stored). */
  get preparedCount(): number {
    return this.#lru.size;
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
    // Break: switch, then drop what is gone (and let the runner free the versions no release holds).
    const before = new Set(this.#held());
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
    for (const version of this.#held()) before.delete(version);
    for (const gone of before) gone.retire();
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
   * Only stores: every cached version was prepared when this node ACKed it,
   * and is prepared again on its first request. One that no longer prepares
   * (a stricter runtime, say) fails that request with its error.
   */
  restore(cached: CachedConfig): { restored: number } {
    for (const script of cached.scripts) {
      const canaryWire = script.canary?.script;
      this.#releases.set(script.name, {
        key: releaseKey(script),
        stable: this.#lazy(script),
        canary:
          canaryWire === undefined
            ? null
            : { script: this.#lazy(canaryWire), percent: script.canary?.percent ?? 0 },
        wire: script,
      });
    }
    for (const [name, key] of Object.entries(cached.rejected)) this.#rejected.set(name, key);
    this.#configVersion = cached.configVersion;
    const restored = cached.scripts.length;
    this.#log.info({ configVersion: cached.configVersion, restored }, "cached config restored");
    return { restored };
  }

  /** Every version the releases hold. */
  *#held(): Iterable<LazyScript> {
    for (const release of this.#releases.values()) {
      yield release.stable;
      if (release.canary !== null) yield release.canary.script;
    }
  }

  #lazy(script: Script): LazyScript {
    const prepare = async (wire: Script): Promise<PreparedScript> => {
      try {
        return await this.#prepareWithRetries(wire);
      } catch (err) {
        const level = isTransientPrepareFailure(err) ? "warn" : "error";
        this.#log[level](
          { script: wire.name, version: wire.version, err: asError(err).message },
          "script failed to prepare",
        );
        throw err;
      }
    };
    return new LazyScript(script, prepare, this.#lru);
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
          canary = { script: await this.#version(canaryWire, current), percent: script.canary?.percent ?? 0 };
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

  /**
   * A version checked by preparing it (and kept prepared, as a new version's
   * requests are likely to come), or the one the current release already holds.
   */
  async #version(script: Script, current: Release | undefined): Promise<LazyScript> {
    for (const held of [current?.stable, current?.canary?.script]) {
      if (held && held.version === script.version && held.sha256 === script.sha256) return held;
    }
    const version = this.#lazy(script);
    await version.prepare();
    return version;
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
