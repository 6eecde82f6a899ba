import { type ModuleType, moduleSetOf, type WorkerScript } from "@edge/isolate-host";
import { type Script, versionDigest } from "@edge/protocol";

/** Why a pushed version was refused before anything ran: it is not what the control plane sent. */
export type VersionCheckCode = "EDGE_VERSION_MALFORMED" | "EDGE_VERSION_DIGEST_MISMATCH";

export class VersionCheckError extends Error {
  readonly code: VersionCheckCode;
  constructor(code: VersionCheckCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** A wire version as the isolate runner takes it. */
export function toWorkerScript(script: Script): WorkerScript {
  return {
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
  };
}

/**
 * What every pushed version goes through before the node takes it, prepared
 * or not: cheap (a hash over its bytes) and deterministic, so a version that
 * fails here fails the same way on every node and is NACKed. Checks the shape
 * (a name, a positive version), the module set as the runner will link it
 * (names, types, no duplicates, source maps that map a module) and that the
 * sha256 covers exactly the source and modules received. What it cannot
 * see — a top-level throw, a missing handler — only preparing shows.
 */
export function verifyVersion(script: Script): void {
  if (typeof script.name !== "string" || script.name === "") {
    throw new VersionCheckError("EDGE_VERSION_MALFORMED", "the version has no script name");
  }
  if (!Number.isSafeInteger(script.version) || script.version < 1) {
    throw new VersionCheckError(
      "EDGE_VERSION_MALFORMED",
      `version ${script.version} is not a positive integer`,
    );
  }
  try {
    moduleSetOf(toWorkerScript(script));
  } catch (err) {
    throw new VersionCheckError("EDGE_VERSION_MALFORMED", (err as Error).message);
  }
  const digest = versionDigest(script.source, script.mainModule ?? "", script.modules ?? []);
  if (digest !== script.sha256) {
    throw new VersionCheckError(
      "EDGE_VERSION_DIGEST_MISMATCH",
      `sha256 ${script.sha256} does not match the source and modules received (${digest})`,
    );
  }
}
