import {
  decodeBindings,
  decodeLimits,
  decodePops,
  decodeSecrets,
  decodeVars,
  decodeVersion,
} from "./codec.js";
import type { ScriptRollout, ScriptSummary, ScriptVersion, SnapshotRollout, VersionMeta } from "./types.js";

/** The SQLite store's rows (see `sqlite-schema.ts`) and their conversion to the Store's types. */

export interface ScriptRow {
  name: string;
  active_version: number | null;
  latest_version: number;
  deleted: number;
  created_at: number;
  updated_at: number;
  rollout_version: number | null;
  rollout_percent: number | null;
  rollout_pops: string | null;
  rollout_started_at: number | null;
}

export interface VersionRow {
  name: string;
  version: number;
  sha256: string;
  source: string;
  ts_source: string | null;
  modules_json: string | null;
  vars_json: string;
  secrets_json: string;
  limits_json: string;
  bindings_json: string;
  crons_json: string;
  created_at: number;
}

export type VersionMetaRow = Omit<VersionRow, "source" | "ts_source" | "modules_json" | "crons_json">;

/** The version a rollout targets, with the rollout's settings. */
export interface RolloutRow extends VersionRow {
  rollout_percent: number | null;
  rollout_pops: string | null;
  rollout_started_at: number;
}

export function toVersion(row: VersionRow): ScriptVersion {
  return decodeVersion(row.name, row.version, {
    sha256: row.sha256,
    source: row.source,
    tsSource: row.ts_source,
    modulesJson: row.modules_json,
    varsJson: row.vars_json,
    secretsJson: row.secrets_json,
    limitsJson: row.limits_json,
    bindingsJson: row.bindings_json,
    cronsJson: row.crons_json,
    createdAt: row.created_at,
  });
}

export function toVersionMeta(row: VersionMetaRow): VersionMeta {
  const where = `${row.name}@${row.version}`;
  return {
    name: row.name,
    version: row.version,
    sha256: row.sha256,
    vars: decodeVars(row.vars_json, where),
    secrets: decodeSecrets(row.secrets_json, where),
    limits: decodeLimits(row.limits_json, where),
    bindings: decodeBindings(row.bindings_json, where),
    createdAt: row.created_at,
  };
}

export function toSummary(row: ScriptRow): ScriptSummary {
  return {
    name: row.name,
    activeVersion: row.active_version ?? 0,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    rollout: toRollout(row),
  };
}

function toRollout(row: ScriptRow): ScriptRollout | null {
  if (row.rollout_version === null) return null;
  return {
    version: row.rollout_version,
    percent: row.rollout_percent,
    pops: row.rollout_pops === null ? null : decodePops(row.rollout_pops, row.name),
    startedAt: row.rollout_started_at ?? row.updated_at,
  };
}

export function toSnapshotRollout(row: RolloutRow): SnapshotRollout {
  return {
    name: row.name,
    target: toVersion(row),
    percent: row.rollout_percent,
    pops: row.rollout_pops === null ? null : decodePops(row.rollout_pops, row.name),
    startedAt: row.rollout_started_at,
  };
}
