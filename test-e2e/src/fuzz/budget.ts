/** What one fuzz target did: printed by the run, checked by the tests. */
export interface FuzzFigures {
  target: string;
  /** Properties run (each a request, or a stream of messages). */
  runs: number;
  /** Inputs sent in all (requests, messages, raw frames). */
  cases: number;
  durationMs: number;
  /** Resident memory of the process under test, before and after (bytes). */
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** In-process targets: V8 heap in use after a full GC, before and after (null: another process). */
  heapBeforeBytes: number | null;
  heapAfterBytes: number | null;
  /** Answers by status (HTTP) or outcome (gRPC). */
  outcomes: Record<string, number>;
  /** What broke a property: empty when the target held. */
  failures: string[];
}

/** Seconds each target runs: `EDGE_FUZZ_SECONDS` (the `npm run fuzz` default is 20), else `fallback`. */
export function fuzzSeconds(fallback: number): number {
  const value = Number(process.env.EDGE_FUZZ_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The growth of resident memory a target may cause before the run counts as unbounded. */
export const RSS_GROWTH_LIMIT_BYTES = 256 * 1024 * 1024;

/** The growth of the live heap (after a full GC) an in-process target may cause. */
export const HEAP_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

/** The heap in use after a full garbage collection: what the process really keeps. */
export async function heapAfterGc(): Promise<number> {
  const { setFlagsFromString } = await import("node:v8");
  const { runInNewContext } = await import("node:vm");
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function count(outcomes: Record<string, number>, key: string): void {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

export function describeFigures(f: FuzzFigures): string {
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const top = Object.entries(f.outcomes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");
  return (
    `fuzz ${f.target}: ${f.runs} runs, ${f.cases} cases in ${(f.durationMs / 1000).toFixed(1)} s; ` +
    `RSS ${mb(f.rssBeforeBytes)} -> ${mb(f.rssAfterBytes)} MB` +
    (f.heapBeforeBytes !== null && f.heapAfterBytes !== null
      ? `, heap after GC ${mb(f.heapBeforeBytes)} -> ${mb(f.heapAfterBytes)} MB`
      : "") +
    `; ${top}; ` +
    `${f.failures.length === 0 ? "no failures" : `${f.failures.length} FAILURES`}\n`
  );
}

/** Resident set size of a process, from /proc (Linux); the test's own process when `pid` is absent. */
export async function rssOf(pid?: number): Promise<number> {
  if (pid === undefined) return process.memoryUsage().rss;
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
