import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { EdgeError } from "../../errors.js";
import { addFigures, emptyFigures, type Figures, type MetricsRow, minuteOf } from "../figures.js";
import type { MetricsStore, RowQuery } from "./types.js";

/**
 * Metrics history in SQLite: one table next to the script store's tables (the
 * same file, its own connection). A bucket's figures are a JSON column, merged
 * in an IMMEDIATE transaction so writers on the same file add up instead of
 * overwriting each other.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS metric_buckets (
  script TEXT NOT NULL,
  minute INTEGER NOT NULL,
  version INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  pop TEXT NOT NULL,
  figures_json TEXT NOT NULL,
  PRIMARY KEY (script, minute, version, node_id)
) STRICT;
CREATE INDEX IF NOT EXISTS metric_buckets_by_minute ON metric_buckets (minute);
`;

interface BucketRow {
  script: string;
  minute: number;
  version: number;
  node_id: string;
  pop: string;
  figures_json: string;
}

export function createSqliteMetricsStore(path: string): MetricsStore {
  if (path !== ":memory:" && path !== "") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    // Metrics are re-sent by nodes until acknowledged; losing the last
    // transactions to a power cut is acceptable here, an fsync per flush is not needed.
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw new EdgeError("EDGE_STORE_UNAVAILABLE", "Cannot open the metrics table", { cause: error });
  }

  const sql = {
    get: db.prepare<[string, number, number, string], BucketRow>(
      "SELECT * FROM metric_buckets WHERE script = ? AND minute = ? AND version = ? AND node_id = ?",
    ),
    put: db.prepare(
      `INSERT INTO metric_buckets (script, minute, version, node_id, pop, figures_json)
       VALUES (@script, @minute, @version, @nodeId, @pop, @figuresJson)
       ON CONFLICT (script, minute, version, node_id) DO UPDATE SET
         pop = excluded.pop, figures_json = excluded.figures_json`,
    ),
    prune: db.prepare<[number]>("DELETE FROM metric_buckets WHERE minute < ?"),
  };

  const add = db.transaction((rows: readonly MetricsRow[]) => {
    for (const row of rows) {
      const existing = sql.get.get(row.script, row.minute, row.version, row.nodeId);
      const figures = existing ? decodeFigures(existing.figures_json) : emptyFigures();
      addFigures(figures, row);
      sql.put.run({
        script: row.script,
        minute: row.minute,
        version: row.version,
        nodeId: row.nodeId,
        pop: row.pop,
        figuresJson: JSON.stringify(pickFigures(figures)),
      });
    }
  });

  let closed = false;
  const guard = <T>(work: () => T): Promise<T> => {
    try {
      if (closed) throw new Error("the metrics store is closed");
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(new EdgeError("EDGE_STORE_UNAVAILABLE", undefined, { cause: error }));
    }
  };

  return {
    addRows: (rows) => guard(() => add.immediate(rows)),
    readRows: (query) => guard(() => read(db, query)),
    prune: (before) => guard(() => sql.prune.run(before).changes),
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function read(db: Database.Database, query: RowQuery): MetricsRow[] {
  const where = ["minute >= @since", "minute <= @until"];
  const params: Record<string, string | number> = { since: minuteOf(query.since), until: query.until };
  if (query.script !== undefined) {
    where.push("script = @script");
    params.script = query.script;
  }
  if (query.pop !== undefined) {
    where.push("pop = @pop");
    params.pop = query.pop;
  }
  const rows = db
    .prepare<Record<string, string | number>, BucketRow>(
      `SELECT * FROM metric_buckets WHERE ${where.join(" AND ")}`,
    )
    .all(params);
  return rows.map((row) => ({
    ...decodeFigures(row.figures_json),
    minute: row.minute,
    script: row.script,
    version: row.version,
    nodeId: row.node_id,
    pop: row.pop,
  }));
}

/** Only the figure fields (a MetricsRow also carries its key). */
function pickFigures(f: Figures): Figures {
  return {
    requests: f.requests,
    errors: f.errors,
    cpuMsTotal: f.cpuMsTotal,
    latencyMsTotal: f.latencyMsTotal,
    latencyBuckets: f.latencyBuckets,
    cpuBuckets: f.cpuBuckets,
    statusClasses: f.statusClasses,
    errorsByCode: f.errorsByCode,
    isolateStarts: f.isolateStarts,
    isolateStartMsTotal: f.isolateStartMsTotal,
    memorySamples: f.memorySamples,
    memoryBytesTotal: f.memoryBytesTotal,
    kvOps: f.kvOps,
  };
}

function decodeFigures(json: string): Figures {
  const figures = emptyFigures();
  addFigures(figures, { ...emptyFigures(), ...(JSON.parse(json) as Partial<Figures>) });
  return figures;
}
