import type { Metric, Registry } from "prom-client";

/**
 * Prometheus metrics whose values are read from our own figures at scrape
 * time, instead of being updated on every request through prom-client's
 * counters: recording stays a few array increments on the hot path, and
 * histograms can be exposed from bucket counts (prom-client's Histogram only
 * takes single observations). prom-client's registry still renders the text
 * format, next to its default process metrics.
 */

type Labels = Record<string, string | number>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Upper bounds, in the metric's unit. */
  bounds: readonly number[];
  /** Count per bucket (not cumulative), one more than `bounds`: the last is the overflow. */
  counts: readonly number[];
  sum: number;
}

/** A summary without quantiles: only `_sum` and `_count`. */
export interface SumCountSample {
  labels: Labels;
  sum: number;
  count: number;
}

interface RenderedValue {
  metricName?: string;
  labels: Labels;
  value: number;
}

function register(
  registry: Registry,
  name: string,
  help: string,
  type: "counter" | "gauge" | "histogram" | "summary",
  values: () => RenderedValue[],
): void {
  // The shape prom-client's Registry reads from any metric (`get()`); its
  // typings only name its own classes, hence the cast.
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
  };
  registry.registerMetric(metric as unknown as Metric);
}

export function snapshotCounter(
  registry: Registry,
  name: string,
  help: string,
  collect: () => Sample[],
): void {
  register(registry, name, help, "counter", collect);
}

export function snapshotGauge(registry: Registry, name: string, help: string, collect: () => Sample[]): void {
  register(registry, name, help, "gauge", collect);
}

export function snapshotHistogram(
  registry: Registry,
  name: string,
  help: string,
  collect: () => HistogramSample[],
): void {
  register(registry, name, help, "histogram", () =>
    collect().flatMap((sample) => {
      const values: RenderedValue[] = [];
      let cumulative = 0;
      sample.bounds.forEach((bound, i) => {
        cumulative += sample.counts[i] ?? 0;
        values.push({
          metricName: `${name}_bucket`,
          labels: { ...sample.labels, le: bound },
          value: cumulative,
        });
      });
      cumulative += sample.counts[sample.bounds.length] ?? 0;
      values.push({
        metricName: `${name}_bucket`,
        labels: { ...sample.labels, le: "+Inf" },
        value: cumulative,
      });
      values.push({ metricName: `${name}_sum`, labels: sample.labels, value: sample.sum });
      values.push({ metricName: `${name}_count`, labels: sample.labels, value: cumulative });
      return values;
    }),
  );
}

export function snapshotSumCount(
  registry: Registry,
  name: string,
  help: string,
  collect: () => SumCountSample[],
): void {
  register(registry, name, help, "summary", () =>
    collect().flatMap((sample) => [
      { metricName: `${name}_sum`, labels: sample.labels, value: sample.sum },
      { metricName: `${name}_count`, labels: sample.labels, value: sample.count },
    ]),
  );
}

/** Milliseconds to seconds, for bounds and sums (Prometheus base units). */
export function seconds(ms: number): number {
  return ms / 1000;
}
