import type { IsolateRunner, PreparedScript } from "@edge/isolate-host";
import { type ConfigPush, type ResourceError, releaseKey, type Script } from "@edge/protocol";
import type { Logger } from "pino";
import { BackgroundPreparer } from "./background-prepare.js";
import type { CachedConfig } from "./cache/config-cache.js";
import { isTransientPrepareFailure, LazyScript, PreparedLru } from "./lazy-script.js";
import { canaryBucket } from "./traffic-split.js";
import { toWorkerScript, verifyVersion } from "./verify-version.js";

/** A script version this node can serve: held always, prepared on first use (see LazyScript). */
export type ActiveScript = LazyScript;

export { isTransientPrepareFailure };

/** Waits before each new attempt at a transient failure (then the version is rejected). */
export const PREPARE_RETRY_DELAYS_MS: readonly number[] = [250, 1_000, 3_000];

/** Prepared versions kept by default before the least recently used is dropped. */
export const DEFAULT_MAX_PREPARED = 1_000;

/** New versions a push may bring and still be prepared before its ACK (EDGE_PUSH_PREPARE_MAX). */
export const DEFAULT_PUSH_PREPARE_MAX = 8;

export interface ScriptRegistryOptions {
  /** Called after every applied push or restore (the node persists its cache then). */
  onChange?: () => void;
  /** Waits before each new attempt at a transient prepare failure (default PREPARE_RETRY_DELAYS_MS). */
  retryDelaysMs?: readonly number[];
  /** Versions kept prepared before the least recently used is dropped (default DEFAULT_MAX_PREPARED). */
  maxPrepared?: number;
  /**
   * A push bringing at most this many new versions is prepared before its ACK; a larger one is
   * verified and stored, ACKed, and prepared lazily (default DEFAULT_PUSH_PREPARE_MAX).
   */
  pushPrepareMax?: number;
}

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
 * resource and make-before-break: every upserted version is verified
 * (shape, module set, sha256: see verify-version.ts), then, for a push that
 * brings at most `pushPrepareMax` new versions, prepared (that is what such
 * an ACK promises: it compiled, its top-level code ran, it has a fetch
 * handler), then the releases are switched in one step, then removals go.
 * A larger push (a node's first sync, a resync, a burst of deploys) is only
 * verified and stored: its ACK promises the bytes are intact and well-formed,
 * each version is prepared on its first request (a version whose previous
 * one was hot is prepared in the background at once), and a version that
 * then fails answers its requests with its error. A version that fails
 * verification or a push's preparation is reported back (NACK) and the
 * script keeps its previous release. Versions restored from the cache at
 * start are only stored and prepared on their first request; prepared
 * versions past `maxPrepared` are dropped least recently used first, and
 * prepared again when asked for. A rejected release is remembered (and
 * persisted) so the node tells every control plane it connects to not to
 * send it again.
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
  /** Script name -> a version it holds that was ACKed unprepared and then failed of its own accord. */
  readonly #failedAfterAck = new Map<string, { error: ResourceError; releaseKey: string }>();
  readonly #lru: PreparedLru;
  readonly #pushPrepareMax: number;
  readonly #background = new BackgroundPreparer();
  #configVersion = 0;

  constructor(runner: IsolateRunner, logger: Logger, options: ScriptRegistryOptions = {}) {
    this.#lru = new PreparedLru(options.maxPrepared ?? DEFAULT_MAX_PREPARED);
    this.#runner = runner;
    this.#log = logger.child({ component: "registry" });
    this.#onChange = options.onChange ?? (() => {});
    this.#retryDelays = options.retryDelaysMs ?? PREPARE_RETRY_DELAYS_MS;
    this.#pushPrepareMax = options.pushPrepareMax ?? DEFAULT_PUSH_PREPARE_MAX;
  }

  /** Resolves once the background preparation of bulk pushes' hot versions is done. */
  backgroundIdle(): Promise<void> {
    return this.#background.idle();
  }

  /** Stops preparing in the background (before the runner goes). */
  close(): Promise<void> {
    return this.#background.close();
  }

  /** Script name -> the transient failure its version is being retried after, while that lasts. */
  retrying(): Record<string, string> {
    return Object.fromEntries(this.#retrying);
  }

  /**
   * Versions this node ACKed without preparing them (a bulk push, its cache)
   * whose preparation then failed for a reason of their own: reported in every
   * heartbeat (a NACK after the ACK) until a push replaces or removes them.
   */
  failedAfterAck(): ResourceError[] {
    return [...this.#failedAfterAck.values()].map((failed) => failed.error);
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
    const verified = push.upserts.filter((script) => this.#verify(script, errors));
    const newVersions = verified.reduce((sum, script) => sum + this.#newVersions(script), 0);
    const prepareNow = newVersions <= this.#pushPrepareMax;
    const hot: LazyScript[] = [];
    // Make: prepare (small push) or store (bulk push) everything new before anything changes, so a
    // request never meets a half-applied push.
    const prepared = await Promise.all(
      verified.map((script) => this.#prepare(script, errors, prepareNow ? null : hot)),
    );
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
    for (const name of this.#failedAfterAck.keys()) {
      if (this.#releases.get(name)?.key !== this.#failedAfterAck.get(name)?.releaseKey) {
        this.#failedAfterAck.delete(name);
      }
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
        newVersions,
        preparedBeforeAck: prepareNow,
      },
      "config applied",
    );
    this.#background.add(hot.filter((version) => !version.isRetired));
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
        const transient = isTransientPrepareFailure(err);
        this.#log[transient ? "warn" : "error"](
          { script: wire.name, version: wire.version, err: asError(err).message },
          "script failed to prepare",
        );
        if (!transient) this.#failedLate(wire, err);
        throw err;
      }
    };
    return new LazyScript(script, prepare, this.#lru);
  }

  /**
   * A version held by a release failed to prepare of its own accord after it
   * was accepted: remembered as rejected (the next hello says so too) and
   * reported until a push changes that script. A small push's own preparation
   * fails before the release exists, so it is NACKed as usual instead.
   */
  #failedLate(wire: Script, err: unknown): void {
    const release = this.#releases.get(wire.name);
    if (release === undefined || heldVersion(release, wire) === undefined) return;
    const errorDetail = asError(err).message.slice(0, 1_000);
    this.#failedAfterAck.set(wire.name, {
      error: { name: wire.name, version: wire.version, errorDetail },
      releaseKey: release.key,
    });
    this.#rejected.set(wire.name, release.key);
    this.#onChange();
  }

  /** Whether an upsert (and its canary) passes verifyVersion; a failure is recorded as a NACK. */
  #verify(script: Script, errors: ResourceError[]): boolean {
    for (const version of [script, script.canary?.script]) {
      if (version === undefined) continue;
      try {
        verifyVersion(version);
      } catch (err) {
        this.#reject(script.name, version.version, err, errors);
        return false;
      }
    }
    return true;
  }

  /** Versions of this upsert that the node does not hold yet (what preparing it would cost). */
  #newVersions(script: Script): number {
    const current = this.#releases.get(script.name);
    if (current && current.key === releaseKey(script) && current.stable.sha256 === script.sha256) return 0;
    const wanted = [script, script.canary?.script].filter((v): v is Script => v !== undefined);
    return wanted.filter((v) => heldVersion(current, v) === undefined).length;
  }

  /**
   * The release an upsert makes, its new versions prepared first — or, for a
   * bulk push (`hot` given), only stored, the ones replacing a prepared
   * version listed in `hot` for the background.
   */
  async #prepare(script: Script, errors: ResourceError[], hot: LazyScript[] | null): Promise<Release | null> {
    const key = releaseKey(script);
    const current = this.#releases.get(script.name);
    if (current && current.key === key && current.stable.sha256 === script.sha256) return current;
    const canaryWire = script.canary?.script;
    const wasHot =
      current !== undefined && (current.stable.isPrepared || current.canary?.script.isPrepared === true);
    try {
      const stable = await this.#version(script, current, hot, wasHot);
      let canary: Release["canary"] = null;
      if (canaryWire !== undefined) {
        try {
          const version = await this.#version(canaryWire, current, hot, wasHot);
          canary = { script: version, percent: script.canary?.percent ?? 0 };
        } catch (err) {
          throw Object.assign(asError(err), { version: canaryWire.version });
        }
      }
      return { key, stable, canary, wire: script };
    } catch (err) {
      this.#reject(script.name, (err as { version?: number }).version ?? script.version, err, errors);
      return null;
    }
  }

  #reject(name: string, version: number, err: unknown, errors: ResourceError[]): void {
    const detail = asError(err).message;
    this.#log.warn({ script: name, version, err: detail }, "script rejected");
    errors.push({ name, version, errorDetail: detail });
  }

  /**
   * The version the current release already holds, or a new one: checked by
   * preparing it (and kept prepared, as a new version's requests are likely to
   * come) for a small push, only stored for a bulk push (`hot` given).
   */
  async #version(
    script: Script,
    current: Release | undefined,
    hot: LazyScript[] | null,
    wasHot: boolean,
  ): Promise<LazyScript> {
    const held = heldVersion(current, script);
    if (held !== undefined) return held;
    const version = this.#lazy(script);
    if (hot === null) await version.prepare();
    else if (wasHot) hot.push(version);
    return version;
  }

  /** runner.prepare(), tried again with backoff while it fails in a way load can explain. */
  async #prepareWithRetries(script: Script): Promise<PreparedScript> {
    for (let attempt = 0; ; attempt++) {
      try {
        const prepared = await this.#runner.prepare(toWorkerScript(script));
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

/** The version of `current` that is `script` (same version and digest), if any. */
function heldVersion(current: Release | undefined, script: Script): LazyScript | undefined {
  for (const held of [current?.stable, current?.canary?.script]) {
    if (held && held.version === script.version && held.sha256 === script.sha256) return held;
  }
  return undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
