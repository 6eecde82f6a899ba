/**
 * @edge/prometheus — metrics whose values are read from the caller's own
 * totals when Prometheus scrapes, and the scrape's bearer-token check, shared
 * by the control plane and edge nodes.
 */

export { scrapeAuthorizer } from "./scrape-auth.js";
export {
  registerScriptVersionMetrics,
  type ScriptVersionFigures,
  type ScriptVersionSeries,
} from "./script-version-metrics.js";
export {
  type HistogramSample,
  type Sample,
  type SumCountSample,
  seconds,
  snapshotCounter,
  snapshotGauge,
  snapshotHistogram,
  snapshotSumCount,
} from "./snapshot-metric.js";
