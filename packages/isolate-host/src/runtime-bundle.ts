import { readFileSync } from "node:fs";

/**
 * The in-isolate runtime, bundled from runtime/ by scripts/bundle-runtime.mjs.
 * Resolved from this module's own location, which is one level below the
 * package root both as src/ (tests) and as dist/ (built).
 */
const BUNDLE_URL = new URL("../runtime-dist/runtime.js", import.meta.url);

export const RUNTIME_FILENAME = "edge-runtime.js";

let cached: string | null = null;

export function readRuntimeBundle(): string {
  if (cached !== null) return cached;
  try {
    cached = readFileSync(BUNDLE_URL, "utf8");
  } catch (err) {
    throw new Error(
      `isolate-host runtime bundle missing at ${BUNDLE_URL.pathname}; build it with \`npm run build -w @edge/isolate-host\``,
      { cause: err },
    );
  }
  return cached;
}
