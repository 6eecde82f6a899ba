import { CPU_BOUNDS_MS, type MetricsReport, type NodeStats } from "@edge/protocol";
import type { Logger } from "pino";
import type { NodeLink } from "../push/telemetry-hooks.js";
import {
  addFigures,
  emptyFigures,
  type Figures,
  figuresFromReport,
  isEmptyFigures,
  type MetricsRow,
  MINUTE_MS,
  minuteOf,
} from "./figures.js";
import {
  clampNodeStats,
  plausibleFigures,
  plausibleLabels,
  plausibleReport,
  REPORT_BOUNDS,
} from "./plausible.js";
import type { MetricsStore } from "./store/types.js";
import type { EdgeNodeStatsView, MetricsSource, MetricsView } from "./types.js";
import { buildView } from "./view.js";

export interface MetricsAggregatorOptions {
  store: MetricsStore;
  logger: Logger;
  /** How often received figures are written to the store (and their reports acknowledged). */
  flushMs: number;
  /** How long 1-minute buckets are kept. */
  retentionMs: number;
  /**
   * The live scripts (the push hub's latest view of the store); null while
   * unknown. Given: entries for other scripts are dropped, and lifetime totals
   * (Prometheus series) of scripts no longer live are pruned at each flush.
   */
  liveScripts?: () => ReadonlySet<string> | null;
  now?: () => number;
}

/** Running totals since start-up of one (script, version, PoP): what Prometheus counters show. */
export interface LifetimeEntry extends Figures {
  script: string;
  version: number;
  pop: string;
}

export interface NodeTotals {
  nodeId: string;
  pop: string;
  isolatesCreated: number;
  stats: NodeStats;
  reportedAt: number;
}

export interface MetricsAggregator extends MetricsSource {
  /** Takes one node's report: de-duplicated, added to pending buckets and to the lifetime totals. */
  record(node: NodeLink, report: MetricsReport): void;
  /** Writes pending buckets to the store, then acknowledges the reports they hold. False if the store failed. */
  flush(): Promise<boolean>;
  lifetime(): Iterable<LifetimeEntry>;
  nodes(): Iterable<NodeTotals>;
  /** Buckets received but not yet stored. */
  readonly pendingRows: number;
  /** Report entries dropped: unknown script, invalid labels, implausible figures, too many versions. */
  readonly droppedEntries: number;
  readonly flushFailures: number;
  start(): void;
  /** Stops the timer and flushes one last time. */
  close(): Promise<void>;
}

interface Delivery {
  reporterId: string;
  sequence: number;
  link: NodeLink;
}

/** Old buckets are pruned at most this often. */
const PRUNE_EVERY_MS = 10 * MINUTE_MS;

/**
 * Control-plane side of metrics. Reports are deltas; each is added to pending
 * 1-minute buckets (per script, version and node) and to in-memory totals.
 * Every `flushMs` the pending buckets are added to the store in one write;
 * only then are the reports they hold acknowledged to their nodes, so a node
 * keeps (and re-sends) a report until it is stored. A failed write puts the
 * buckets back, merged with what arrived meanwhile. Queries read the store
 * plus what is still pending here.
 */
export function createMetricsAggregator(options: MetricsAggregatorOptions): MetricsAggregator {
  const { store } = options;
  const log = options.logger.child({ component: "metrics" });
  const now = options.now ?? Date.now;
  let pending = new Map<string, MetricsRow>();
  const lifetime = new Map<string, LifetimeEntry>();
  const nodeTotals = new Map<string, NodeTotals>();
  /** node id -> the last report counted (its stream, to acknowledge on). */
  const received = new Map<string, Delivery>();
  /** node id -> the last report stored and acknowledged. */
  const stored = new Map<string, { reporterId: string; sequence: number }>();
  let flushing: Promise<boolean> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastPrune = 0;
  let flushFailures = 0;
  let droppedEntries = 0;
  let lastDropLog = 0;

  const dropped = (nodeId: string, reason: string, script: string): void => {
    droppedEntries += 1;
    // A hostile node can send thousands a second: say it at most every 10 s.
    if (now() - lastDropLog < 10_000) return;
    lastDropLog = now();
    log.warn({ nodeId, reason, script: script.slice(0, 80), droppedEntries }, "metrics entry dropped");
  };

  /** Lifetime totals of scripts no longer live go, and their Prometheus series with them. */
  function pruneLifetime(): void {
    const live = options.liveScripts?.();
    if (!live) return;
    for (const [key, entry] of lifetime) if (!live.has(entry.script)) lifetime.delete(key);
  }

  /** The lifetime total for a (script, version, PoP); null when the script has too many versions already. */
  function lifetimeEntry(script: string, version: number, pop: string): LifetimeEntry | null {
    const key = `${script}\n${version}\n${pop}`;
    const existing = lifetime.get(key);
    if (existing) return existing;
    const versions = [...lifetime.values()].filter((e) => e.script === script && e.pop === pop);
    if (versions.length >= REPORT_BOUNDS.maxVersionsPerScript) {
      // The oldest version makes room only for a newer one.
      const oldest = versions.reduce((a, b) => (a.version < b.version ? a : b));
      if (oldest.version > version) return null;
      lifetime.delete(`${script}\n${oldest.version}\n${pop}`);
    }
    const total = { ...emptyFigures(), script, version, pop };
    lifetime.set(key, total);
    return total;
  }

  const ack = (link: NodeLink, reporterId: string, sequence: number) =>
    link.send({ $case: "metricsAck", value: { reporterId, upToSequence: sequence } });

  function addPending(row: MetricsRow): void {
    const key = `${row.script}\n${row.minute}\n${row.version}\n${row.nodeId}`;
    const existing = pending.get(key);
    if (existing) addFigures(existing, row);
    else pending.set(key, cloneRow(row));
  }

  /** Reports carry node clocks: a window ending in the future or past retention is filed under now. */
  function minuteFor(report: MetricsReport): number {
    const t = now();
    const end = report.windowEndMs;
    return minuteOf(end > t || end < t - options.retentionMs + MINUTE_MS ? t : end);
  }

  async function write(): Promise<boolean> {
    pruneLifetime();
    const batch = [...pending.values()];
    pending = new Map();
    const deliveries = [...received].map(([nodeId, d]) => [nodeId, { ...d }] as const);
    try {
      if (batch.length > 0) await store.addRows(batch);
    } catch (error) {
      flushFailures += 1;
      const cutoff = now() - options.retentionMs;
      for (const row of batch) if (row.minute >= cutoff) addPending(row);
      log.warn({ err: error, rows: batch.length }, "cannot store metrics; keeping them for the next flush");
      return false;
    }
    for (const [nodeId, d] of deliveries) {
      const before = stored.get(nodeId);
      if (before && before.reporterId === d.reporterId && before.sequence >= d.sequence) continue;
      stored.set(nodeId, { reporterId: d.reporterId, sequence: d.sequence });
      ack(d.link, d.reporterId, d.sequence);
    }
    if (now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now();
      await store.prune(now() - options.retentionMs).catch((error: unknown) => {
        log.warn({ err: error }, "cannot prune old metrics");
      });
    }
    return true;
  }

  const aggregator: MetricsAggregator = {
    record(node, report): void {
      if (!plausibleReport(report)) {
        dropped(node.id, "report too large", "");
        return;
      }
      const hasSequence = report.reporterId !== "" && report.sequence > 0;
      if (hasSequence) {
        const last = received.get(node.id);
        if (last && last.reporterId === report.reporterId && report.sequence <= last.sequence) {
          // Counted already (the node re-sent it after a reconnect): acknowledge on the new stream.
          last.link = node;
          const done = stored.get(node.id);
          if (done && done.reporterId === report.reporterId && report.sequence <= done.sequence) {
            ack(node, done.reporterId, done.sequence);
          }
          return;
        }
        received.set(node.id, { reporterId: report.reporterId, sequence: report.sequence, link: node });
      }
      const minute = minuteFor(report);
      const cpuBounds = report.cpuBoundsMs.length > 0 ? report.cpuBoundsMs : CPU_BOUNDS_MS;
      const live = options.liveScripts?.() ?? null;
      for (const entry of report.scripts) {
        if (entry.script === "") continue;
        if (!plausibleLabels(entry.script, entry.version)) {
          dropped(node.id, "invalid script name or version", entry.script);
          continue;
        }
        if (live !== null && !live.has(entry.script)) {
          dropped(node.id, "unknown script", entry.script);
          continue;
        }
        const figures = figuresFromReport(entry, report.latencyBoundsMs, cpuBounds);
        if (isEmptyFigures(figures)) continue;
        if (!plausibleFigures(figures)) {
          dropped(node.id, "implausible figures", entry.script);
          continue;
        }
        const total = lifetimeEntry(entry.script, entry.version, node.pop);
        if (total === null) {
          dropped(node.id, "too many versions", entry.script);
          continue;
        }
        addFigures(total, figures);
        addPending({
          ...figures,
          minute,
          script: entry.script,
          version: entry.version,
          nodeId: node.id,
          pop: node.pop,
        });
      }
      if (report.node) {
        const previous = nodeTotals.get(node.id);
        const stats = clampNodeStats(report.node);
        const t = now();
        nodeTotals.set(node.id, {
          nodeId: node.id,
          pop: node.pop,
          isolatesCreated: (previous?.isolatesCreated ?? 0) + stats.isolatesCreated,
          stats,
          // A node's clock is its own: a time in the future (or no time) reads as now.
          reportedAt: report.windowEndMs > 0 && report.windowEndMs <= t ? report.windowEndMs : t,
        });
      }
    },

    flush(): Promise<boolean> {
      // One write at a time: a second caller shares the running one.
      flushing ??= write().finally(() => {
        flushing = null;
      });
      return flushing;
    },

    async query(q): Promise<MetricsView> {
      const until = q.until ?? now();
      const since = q.since ?? until - 60 * MINUTE_MS;
      const query = {
        since,
        until,
        ...(q.script ? { script: q.script } : {}),
        ...(q.pop ? { pop: q.pop } : {}),
      };
      const reading = store.readRows(query);
      // Taken in the same tick the read is issued: rows already handed to the
      // store are in the read (SQLite answers at once, Redis in command order),
      // rows still pending are not; together they count everything once.
      const local = [...pending.values()].filter(
        (r) =>
          (q.script === undefined || r.script === q.script) &&
          (q.pop === undefined || r.pop === q.pop) &&
          r.minute >= minuteOf(since) &&
          r.minute <= until,
      );
      const rows = [...(await reading), ...local];
      const edgeNodes: EdgeNodeStatsView[] = [...nodeTotals.values()]
        .filter((n) => q.pop === undefined || n.pop === q.pop)
        .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
        .map((n) => ({
          nodeId: n.nodeId,
          pop: n.pop,
          reportedAt: new Date(n.reportedAt).toISOString(),
          inFlight: n.stats.inFlight,
          isolatesCreated: n.isolatesCreated,
          eventLoopLagP99Ms: round(n.stats.eventLoopLagP99Ms),
          eventLoopLagMaxMs: round(n.stats.eventLoopLagMaxMs),
          cpuLoad: n.stats.cpuLoad,
          rssBytes: n.stats.rssBytes,
          heapUsedBytes: n.stats.heapUsedBytes,
        }));
      return buildView(rows, { since, until }, edgeNodes);
    },

    lifetime: () => lifetime.values(),
    nodes: () => nodeTotals.values(),
    get pendingRows() {
      return pending.size;
    },
    get flushFailures() {
      return flushFailures;
    },
    get droppedEntries() {
      return droppedEntries;
    },

    start(): void {
      if (timer) return;
      timer = setInterval(() => void aggregator.flush(), options.flushMs);
      timer.unref();
    },

    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await aggregator.flush();
    },
  };
  return aggregator;
}

function cloneRow(f: MetricsRow): MetricsRow {
  return {
    ...f,
    latencyBuckets: [...f.latencyBuckets],
    cpuBuckets: [...f.cpuBuckets],
    statusClasses: { ...f.statusClasses },
    errorsByCode: { ...f.errorsByCode },
    kvOps: { ...f.kvOps },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
