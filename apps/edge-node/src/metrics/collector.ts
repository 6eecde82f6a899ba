import { LATENCY_BOUNDS_MS, type MetricsReport, type ScriptMetrics } from "@edge/protocol";

/**
 * Per script version counters for one reporting window. `drain()` hands the
 * window to the agent; if sending fails, `restore()` merges it back so the
 * next report carries it (no loss while the control plane is away).
 */
export class MetricsCollector {
  #window = new Map<string, ScriptMetrics>();
  #windowStart = Date.now();

  record(
    script: string,
    version: number,
    sample: { latencyMs: number; cpuMs: number; error: boolean },
  ): void {
    const entry = this.#entry(script, version);
    entry.requests += 1;
    if (sample.error) entry.errors += 1;
    entry.cpuMsTotal += sample.cpuMs;
    entry.latencyMsTotal += sample.latencyMs;
    const bucket = bucketIndex(sample.latencyMs);
    entry.latencyBuckets[bucket] = (entry.latencyBuckets[bucket] ?? 0) + 1;
  }

  /** Takes the current window, or null when nothing happened in it. */
  drain(now = Date.now()): MetricsReport | null {
    if (this.#window.size === 0) return null;
    const report: MetricsReport = {
      windowStartMs: this.#windowStart,
      windowEndMs: now,
      latencyBoundsMs: [...LATENCY_BOUNDS_MS],
      scripts: [...this.#window.values()],
    };
    this.#window = new Map();
    this.#windowStart = now;
    return report;
  }

  /** Puts back a report that could not be delivered. */
  restore(report: MetricsReport): void {
    this.#windowStart = Math.min(this.#windowStart, report.windowStartMs);
    for (const s of report.scripts) {
      const entry = this.#entry(s.script, s.version);
      entry.requests += s.requests;
      entry.errors += s.errors;
      entry.cpuMsTotal += s.cpuMsTotal;
      entry.latencyMsTotal += s.latencyMsTotal;
      s.latencyBuckets.forEach((count, i) => {
        entry.latencyBuckets[i] = (entry.latencyBuckets[i] ?? 0) + count;
      });
    }
  }

  #entry(script: string, version: number): ScriptMetrics {
    const key = `${script}@${version}`;
    let entry = this.#window.get(key);
    if (!entry) {
      entry = {
        script,
        version,
        requests: 0,
        errors: 0,
        cpuMsTotal: 0,
        latencyMsTotal: 0,
        latencyBuckets: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
      };
      this.#window.set(key, entry);
    }
    return entry;
  }
}

function bucketIndex(latencyMs: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) {
    if (latencyMs <= (LATENCY_BOUNDS_MS[i] as number)) return i;
  }
  return LATENCY_BOUNDS_MS.length;
}
