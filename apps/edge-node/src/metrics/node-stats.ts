import { monitorEventLoopDelay } from "node:perf_hooks";
import type { NodeStats } from "@edge/protocol";

/**
 * Node-wide figures per reporting window: event-loop delay (perf_hooks
 * histogram, reset every window), process CPU load and memory. The latest
 * window stays readable for the Prometheus endpoint.
 */
export class NodeStatsSampler {
  readonly #loop = monitorEventLoopDelay({ resolution: 10 });
  #cpu = process.cpuUsage();
  #at = performance.now();
  #last: NodeStats = {
    inFlight: 0,
    isolatesCreated: 0,
    eventLoopLagP99Ms: 0,
    eventLoopLagMaxMs: 0,
    cpuLoad: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
  };

  start(): void {
    this.#loop.enable();
  }

  stop(): void {
    this.#loop.disable();
  }

  /** Closes the window: figures since the previous call. */
  sample(inFlight: number, isolatesCreated: number): NodeStats {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#cpu);
    const wallUs = Math.max(1, (now - this.#at) * 1000);
    const memory = process.memoryUsage();
    const hasLoopData = this.#loop.count > 0;
    this.#last = {
      inFlight,
      isolatesCreated,
      eventLoopLagP99Ms: hasLoopData ? this.#loop.percentile(99) / 1e6 : 0,
      eventLoopLagMaxMs: hasLoopData ? this.#loop.max / 1e6 : 0,
      cpuLoad: round((cpu.user + cpu.system) / wallUs),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
    this.#loop.reset();
    this.#cpu = process.cpuUsage();
    this.#at = now;
    return this.#last;
  }

  /** The latest window's figures. */
  get last(): NodeStats {
    return this.#last;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
