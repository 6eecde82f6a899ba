import type { Database } from "better-sqlite3";
import { decodeEnrolment, encodeEnrolment } from "./enrolment-codec.js";
import type { NodeEnrolment } from "./types.js";

export interface SqliteEnrolments {
  create(enrolment: NodeEnrolment): boolean;
  get(nodeId: string): NodeEnrolment | null;
  list(): NodeEnrolment[];
  delete(nodeId: string): boolean;
}

/** Node enrolments in the `enrolments` table (schema 4): id -> JSON, written with fsync like config. */
export function sqliteEnrolments(db: Database): SqliteEnrolments {
  const insert = db.prepare("INSERT OR IGNORE INTO enrolments (node_id, enrolment_json) VALUES (?, ?)");
  const one = db.prepare<[string], { enrolment_json: string }>(
    "SELECT enrolment_json FROM enrolments WHERE node_id = ?",
  );
  const all = db.prepare<[], { enrolment_json: string }>(
    "SELECT enrolment_json FROM enrolments ORDER BY node_id",
  );
  const remove = db.prepare<[string]>("DELETE FROM enrolments WHERE node_id = ?");
  return {
    create: (enrolment) => insert.run(enrolment.nodeId, encodeEnrolment(enrolment)).changes === 1,
    get: (nodeId) => {
      const row = one.get(nodeId);
      return row === undefined ? null : decodeEnrolment(row.enrolment_json);
    },
    list: () => all.all().map((row) => decodeEnrolment(row.enrolment_json)),
    delete: (nodeId) => remove.run(nodeId).changes === 1,
  };
}
