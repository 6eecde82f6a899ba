import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every edge node of a test worker keeps its config cache under here; removed when the worker exits. */
let cacheRoot: string | null = null;
let cacheDirs = 0;

/**
 * A fresh, empty config-cache directory for one edge node (EDGE_CACHE_DIR),
 * so no node restores what another test, or an earlier run, left behind. It
 * survives the node being killed, for tests that restart it.
 */
export function freshCacheDir(): string {
  if (cacheRoot === null) {
    const root = mkdtempSync(join(tmpdir(), "edge-e2e-cache-"));
    cacheRoot = root;
    process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  }
  cacheDirs += 1;
  return join(cacheRoot, `node-${cacheDirs}`);
}
