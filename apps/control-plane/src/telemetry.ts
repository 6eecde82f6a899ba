import type { MetricsAggregator } from "./metrics/aggregator.js";
import type { NodeTelemetryHooks } from "./push/telemetry-hooks.js";
import type { TailHub } from "./tail/tail-hub.js";

/** Plugs metrics and the tail into the push hub's node streams. */
export function telemetryHooks(
  metrics: Pick<MetricsAggregator, "record">,
  tail: TailHub,
): NodeTelemetryHooks {
  return {
    metrics: (node, report) => metrics.record(node, report),
    opened: (node) => tail.opened(node),
    closed: (node) => tail.closed(node),
    message: (node, msg) => tail.message(node, msg),
  };
}
