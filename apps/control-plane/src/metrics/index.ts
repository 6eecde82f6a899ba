export {
  createMetricsAggregator,
  type LifetimeEntry,
  type MetricsAggregator,
  type MetricsAggregatorOptions,
  type NodeTotals,
} from "./aggregator.js";
export { type Figures, type MetricsRow, minuteOf } from "./figures.js";
export { LatencyHistogram } from "./histogram.js";
export { type ControlPlanePrometheusDeps, createControlPlaneRegistry } from "./prometheus.js";
export {
  createRedisMetricsStore,
  createSqliteMetricsStore,
  type MetricsStore,
  openMetricsStore,
  type RedisMetricsStoreOptions,
  type RowQuery,
} from "./store/index.js";
export type {
  EdgeNodeStatsView,
  FiguresView,
  MetricsQuery,
  MetricsSource,
  MetricsView,
  NodeShareView,
  Quantiles,
  ScriptMetricsView,
  SeriesPoint,
  VersionShareView,
} from "./types.js";
