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
    mainModule: version.modules?.main ?? "",
    modules: (version.modules?.modules ?? []).map((m) => ({
      name: m.name,
      type: m.type,
      // A view, not a copy: pushes and the consistency check build these often.
      content: Buffer.from(m.content.buffer, m.content.byteOffset, m.content.byteLength),
    })),
    kvBindings: Object.fromEntries(
      Object.entries(version.bindings ?? {}).map(([name, binding]) => [name, binding.namespaceId]),
    ),
  };
}
