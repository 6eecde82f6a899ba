import { readFileSync } from "node:fs";

/**
 * The in-isolate runtime, bundled from runtime/ by scripts/bundle-runtime.mjs:
 * the core every isolate runs and the parts it loads on first use
 * (runtime/lazy.ts). Resolved from this module's own location, which is one
 * level below the package root both as src/ (tests) and as dist/ (built).
 */
const DIST = new URL("../runtime-dist/", import.meta.url);

export const RUNTIME_FILENAME = "edge-runtime.js";

/** The lazily loaded parts, by the name runtime/lazy.ts asks for. */
export const LAZY_PARTS = ["streams", "body", "crypto", "encoding", "encoding-cjk", "urlpattern"] as const;
export type LazyPart = (typeof LAZY_PARTS)[number];

export interface RuntimeBundle {
  core: string;
  lazy: Record<LazyPart, string>;
}

let cached: RuntimeBundle | null = null;

export function readRuntimeBundle(): RuntimeBundle {
  cached ??= {
    core: readDist("runtime.js"),
    lazy: Object.fromEntries(LAZY_PARTS.map((part) => [part, readDist(`lazy-${part}.js`)])) as Record<
      LazyPart,
      string
    >,
  };
  return cached;
}

export function lazyFilename(part: LazyPart): string {
  return `edge-runtime-${part}.js`;
}

function readDist(file: string): string {
  const url = new URL(file, DIST);
  try {
    return readFileSync(url, "utf8");
  } catch (err) {
    throw new Error(
      `isolate-host runtime bundle missing at ${url.pathname}; build it with \`npm run build -w @edge/isolate-host\``,
      { cause: err },
    );
  }
}
