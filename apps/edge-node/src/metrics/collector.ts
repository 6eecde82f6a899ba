import { CPU_BOUNDS_MS, emptyScriptMetrics, LATENCY_BOUNDS_MS, type ScriptMetrics } from "@edge/protocol";
import { type RequestOutcome, statusClass } from "../request-outcome.js";

/** One window of per script version figures, as the shipper turns it into a report. */
export interface MetricsWindow {
  windowStartMs: number;
  windowEndMs: number;
  scripts: ScriptMetrics[];
  isolatesCreated: number;
}

/**
 * Per script version figures, twice: for the current reporting window (taken
 * by `drain()` and shipped as a delta) and since the process started (read by
 * the Prometheus endpoint). Recording is a few array increments, as it runs
 * on every request.
 */
export class MetricsCollector {
  #window = new Map<string, ScriptMetrics>();
  readonly #lifetime = new Map<string, ScriptMetrics>();
  #windowStart: number;
  #isolatesInWindow = 0;
  #isolatesTotal = 0;
  readonly #cacheEvents = new Map<string, Map<string, number>>();

  constructor(now = Date.now()) {
    this.#windowStart = now;
  }

  record(outcome: RequestOutcome): void {
    add(entry(this.#window, outcome.script, outcome.version), outcome);
    add(entry(this.#lifetime, outcome.script, outcome.version), outcome);
    if (outcome.ranIsolate) {
      this.#isolatesInWindow += 1;
      this.#isolatesTotal += 1;
    }
  }

  /** Counts Cache API events of a script (hits, misses, puts, hitBytes, putBytes, evictions), node lifetime. */
  recordCache(script: string, event: string, count: number): void {
    let events = this.#cacheEvents.get(script);
    if (events === undefined) {
      events = new Map();
      this.#cacheEvents.set(script, events);
    }
    events.set(event, (events.get(event) ?? 0) + count);
  }

  /** Cache API counters since the node started, one row per script and event. */
  cacheEvents(): Array<{ script: string; event: string; value: number }> {
    return [...this.#cacheEvents].flatMap(([script, events]) =>
      [...events].map(([event, value]) => ({ script, event, value })),
    );
  }

  /** Counts Workers KV operations of a script version (`kvOps`, "<namespace id>:<op>"). */
  recordKv(script: string, version: number, namespaceId: string, op: string, count: number): void {
    const key = `${namespaceId}:${op}`;
    for (const map of [this.#window, this.#lifetime]) {
      const m = entry(map, script, version);
      m.kvOps[key] = (m.kvOps[key] ?? 0) + count;
    }
  }

  /** Takes the current window (possibly with no scripts) and starts the next one. */
  drain(now = Date.now()): MetricsWindow {
    const window: MetricsWindow = {
      windowStartMs: this.#windowStart,
      windowEndMs: now,
      scripts: [...this.#window.values()],
      isolatesCreated: this.#isolatesInWindow,
    };
    this.#window = new Map();
    this.#windowStart = now;
    this.#isolatesInWindow = 0;
    return window;
  }

  /** Figures since start-up, per script version. */
  lifetime(): Iterable<ScriptMetrics> {
    return this.#lifetime.values();
  }

  get isolatesCreatedTotal(): number {
    return this.#isolatesTotal;
  }
}

function entry(map: Map<string, ScriptMetrics>, script: string, version: number): ScriptMetrics {
  const key = `${script}@${version}`;
  let found = map.get(key);
  if (!found) {
    found = emptyScriptMetrics(script, version);
    map.set(key, found);
  }
  return found;
}

function add(m: ScriptMetrics, o: RequestOutcome): void {
  m.requests += 1;
  // A client that went away is the client's doing: counted by its code, not as an error of the script.
  if ((o.status >= 500 || o.errorCode !== null) && o.errorCode !== "EDGE_CLIENT_CLOSED") m.errors += 1;
  m.cpuMsTotal += o.cpuMs;
  m.latencyMsTotal += o.latencyMs;
  increment(m.latencyBuckets, bucketIndex(LATENCY_BOUNDS_MS, o.latencyMs));
  increment(m.cpuBuckets, bucketIndex(CPU_BOUNDS_MS, o.cpuMs));
  const cls = statusClass(o.status);
  m.statusClasses[cls] = (m.statusClasses[cls] ?? 0) + 1;
  if (o.errorCode !== null) m.errorsByCode[o.errorCode] = (m.errorsByCode[o.errorCode] ?? 0) + 1;
  if (o.isolateStartMs !== null) {
    m.isolateStarts += 1;
    m.isolateStartMsTotal += o.isolateStartMs;
  }
  if (o.memoryBytes !== null) {
    m.memorySamples += 1;
    m.memoryBytesTotal += o.memoryBytes;
  }
}

function increment(buckets: number[], index: number): void {
  buckets[index] = (buckets[index] ?? 0) + 1;
}

/** Index of the first bound >= value; the overflow bucket (bounds.length) above the last. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) {
    if (value <= (bounds[i] as number)) return i;
  }
  return bounds.length;
}
