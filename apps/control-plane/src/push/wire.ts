import type { Script } from "@edge/protocol";
import type { ScriptVersion } from "../store/types.js";

/** The store's view of a version, as it travels on the wire. */
export function toWireScript(version: ScriptVersion): Script {
  return {
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    source: version.source,
    vars: { ...version.vars },
    limits: { cpuMs: version.limits.cpuMs, memoryMb: version.limits.memoryMb, wallMs: version.limits.wallMs },
    createdAtMs: version.createdAt,
    canary: undefined,
    kvBindings: Object.fromEntries(
      Object.entries(version.bindings ?? {}).map(([name, binding]) => [name, binding.namespaceId]),
    ),
  };
}
