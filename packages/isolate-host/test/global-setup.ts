import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundles = ["runtime.js", "lazy-streams.js", "lazy-body.js"].map(
  (file) => `${root}runtime-dist/${file}`,
);
const workerEntry = `${root}dist/threads/runner-worker.js`;

/** Newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return latest;
}

function staleAgainst(output: string, sources: string): boolean {
  return !existsSync(output) || newest(`${root}${sources}`) > statSync(output).mtimeMs;
}

/**
 * Tests load the runtime bundle from runtime-dist/, and worker threads (the
 * threaded runner) load the built dist/: build either when it is missing or
 * older than its sources.
 */
export default function setup(): void {
  if (bundles.some((bundle) => staleAgainst(bundle, "runtime"))) {
    execFileSync(process.execPath, ["scripts/bundle-runtime.mjs"], { cwd: root, stdio: "inherit" });
  }
  if (staleAgainst(workerEntry, "src")) {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  }
}
