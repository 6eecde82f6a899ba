export { createMetricsAggregator, type MetricsAggregator } from "./aggregator.js";
export { LatencyHistogram } from "./histogram.js";
