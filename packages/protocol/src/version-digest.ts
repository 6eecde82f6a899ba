import { createHash } from "node:crypto";

/** A module as the digest sees it (ScriptModule on the wire). */
export interface DigestModule {
  name: string;
  type: string;
  content: Uint8Array;
}

/**
 * A version's `sha256`: of its source alone for a single-module version (as
 * before multi-module versions existed), else of the main module's name and
 * source and every other module's name, type and bytes, each length-prefixed
 * in the order given, so no two different module sets share a digest.
 */
export function versionDigest(
  source: string,
  mainModule = "",
  modules: readonly DigestModule[] = [],
): string {
  const hash = createHash("sha256");
  if (modules.length === 0 && mainModule === "") return hash.update(source, "utf8").digest("hex");
  const field = (bytes: Uint8Array | string): void => {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    hash.update(`${data.byteLength}:`);
    hash.update(data);
  };
  hash.update("edge-modules-v1\n");
  field(mainModule);
  field(source);
  for (const module of modules) {
    field(module.name);
    field(module.type);
    field(module.content);
  }
  return hash.digest("hex");
}
