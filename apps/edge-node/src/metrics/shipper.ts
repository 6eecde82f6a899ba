import { randomUUID } from "node:crypto";
import { CPU_BOUNDS_MS, LATENCY_BOUNDS_MS, type MetricsAck, type MetricsReport } from "@edge/protocol";
import type { MetricsCollector } from "./collector.js";
import type { NodeStatsSampler } from "./node-stats.js";

export interface MetricsShipperOptions {
  /** Reports kept while they wait for the control plane's ACK; then windows merge. Default 32. */
  maxUnacked?: number;
  /** Identifies this process's reports; default a random UUID. */
  reporterId?: string;
}

/**
 * Turns collector windows into numbered reports and keeps each one until the
 * control plane acknowledges it (`MetricsAck`, sent once the report is
 * stored). After a reconnect the agent sends the unacknowledged reports again;
 * the control plane skips a (reporterId, sequence) it already counted. While
 * `maxUnacked` reports wait, no new report is cut: the collector's window
 * keeps growing, so a long outage costs one merged report, not memory per
 * window, and nothing is lost.
 */
export class MetricsShipper {
  readonly reporterId: string;
  readonly #collector: MetricsCollector;
  readonly #stats: NodeStatsSampler;
  readonly #inFlight: () => number;
  readonly #maxUnacked: number;
  readonly #unacked: MetricsReport[] = [];
  #sequence = 0;

  constructor(
    collector: MetricsCollector,
    stats: NodeStatsSampler,
    inFlight: () => number,
    options: MetricsShipperOptions = {},
  ) {
    this.#collector = collector;
    this.#stats = stats;
    this.#inFlight = inFlight;
    this.#maxUnacked = Math.max(1, options.maxUnacked ?? 32);
    this.reporterId = options.reporterId ?? randomUUID();
  }

  /** Cuts the next report from the current window, or null while too many await an ACK. */
  next(now = Date.now()): MetricsReport | null {
    if (this.#unacked.length >= this.#maxUnacked) return null;
    const window = this.#collector.drain(now);
    const report: MetricsReport = {
      windowStartMs: window.windowStartMs,
      windowEndMs: window.windowEndMs,
      latencyBoundsMs: [...LATENCY_BOUNDS_MS],
      scripts: window.scripts,
      reporterId: this.reporterId,
      sequence: ++this.#sequence,
      cpuBoundsMs: [...CPU_BOUNDS_MS],
      node: this.#stats.sample(this.#inFlight(), window.isolatesCreated),
    };
    this.#unacked.push(report);
    return report;
  }

  /** Reports sent but not acknowledged yet, oldest first. */
  unacked(): readonly MetricsReport[] {
    return this.#unacked;
  }

  ack(ack: MetricsAck): void {
    if (ack.reporterId !== this.reporterId) return;
    while (this.#unacked.length > 0 && (this.#unacked[0] as MetricsReport).sequence <= ack.upToSequence) {
      this.#unacked.shift();
    }
  }
}
