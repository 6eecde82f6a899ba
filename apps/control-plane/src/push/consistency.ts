import { versionDigest } from "@edge/protocol";
import type { ScriptVersion, Snapshot } from "../store/types.js";
import { wireBytes } from "./desired.js";
import { toWireScript } from "./wire.js";

/** Lowercase `[a-z0-9-]{1,63}`, as the API accepts names (kept here so push does not import routes). */
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SHA256 = /^[0-9a-f]{64}$/;
/**
 * Sources whose hash was verified already (name@version:sha256:length).
 * Versions are immutable, so a full hash per version suffices; the length
 * still catches a source that was truncated or replaced since.
 */
const VERIFIED_LIMIT = 10_000;

export interface CheckOptions {
  /** Largest resource one push may carry (a script with its canary). */
  maxResourceBytes: number;
}

/**
 * The consistency check a snapshot passes before anything of it is published:
 * every script has a valid name, version, limits and a source matching its
 * sha256, fits in one push, and every rollout names a live script and another
 * version of it with a valid share or PoP list. A script that fails is
 * withheld (nodes keep what they hold of it, nothing is removed) and named in
 * `problems`; the rest is published. Sources are hashed once per version (and length).
 */
export class ConsistencyCheck {
  readonly #verified = new Set<string>();

  constructor(private readonly options: CheckOptions) {}

  check(snapshot: Snapshot): { withheld: Set<string>; problems: string[] } {
    const withheld = new Set<string>();
    const problems: string[] = [];
    const fail = (name: string, problem: string): void => {
      withheld.add(name);
      problems.push(`${name}: ${problem}`);
    };
    const active = new Map<string, ScriptVersion>();
    for (const script of snapshot.scripts) {
      if (active.has(script.name)) fail(script.name, "listed twice in the snapshot");
      active.set(script.name, script);
      const problem = this.#versionProblem(script);
      if (problem !== null) fail(script.name, problem);
    }
    for (const rollout of snapshot.rollouts) {
      const current = active.get(rollout.name);
      const problem =
        current === undefined
          ? "a rollout of a script that is not live"
          : rollout.target.name !== rollout.name
            ? "a rollout of another script's version"
            : rollout.target.version === current.version
              ? "a rollout of the active version"
              : (rolloutProblem(rollout.percent, rollout.pops) ?? this.#versionProblem(rollout.target));
      if (problem !== null) {
        fail(rollout.name, problem);
        continue;
      }
      const bytes = wireBytes(toWireScript(current!)) + wireBytes(toWireScript(rollout.target));
      if (bytes > this.options.maxResourceBytes) {
        fail(rollout.name, `with its canary it is ${bytes} bytes, above ${this.options.maxResourceBytes}`);
      }
    }
    return { withheld, problems };
  }

  #versionProblem(script: ScriptVersion): string | null {
    if (!NAME.test(script.name)) return "invalid name";
    if (!Number.isSafeInteger(script.version) || script.version < 1)
      return `invalid version ${script.version}`;
    const { cpuMs, memoryMb, wallMs } = script.limits;
    if (![cpuMs, memoryMb, wallMs].every((n) => Number.isSafeInteger(n) && n > 0)) return "invalid limits";
    if (Object.keys(script.vars).some((key) => key === "")) return "a variable without a name";
    const bytes = wireBytes(toWireScript(script));
    if (bytes > this.options.maxResourceBytes) {
      return `version ${script.version} is ${bytes} bytes, above the ${this.options.maxResourceBytes} a push may carry`;
    }
    const id = `${script.name}@${script.version}:${script.sha256}:${script.source.length}:${script.modules?.modules.length ?? 0}`;
    if (this.#verified.has(id)) return null;
    if (!SHA256.test(script.sha256)) return `version ${script.version} has an invalid sha256`;
    if (versionDigest(script.source, script.modules?.main, script.modules?.modules) !== script.sha256) {
      return `the source of version ${script.version} does not match its sha256`;
    }
    if (this.#verified.size >= VERIFIED_LIMIT) this.#verified.clear();
    this.#verified.add(id);
    return null;
  }
}

function rolloutProblem(percent: number | null, pops: string[] | null): string | null {
  if ((percent === null) === (pops === null)) return "a rollout needs exactly one of percent and pops";
  if (percent !== null && !(Number.isInteger(percent) && percent >= 1 && percent <= 100)) {
    return `invalid rollout percent ${percent}`;
  }
  if (pops !== null && (pops.length === 0 || pops.some((pop) => pop === ""))) return "invalid rollout PoPs";
  return null;
}
