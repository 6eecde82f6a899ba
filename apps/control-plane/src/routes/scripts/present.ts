import type { NodeView } from "../../push/types.js";
import type {
  ScriptBindings,
  ScriptLimits,
  ScriptRollout,
  ScriptSummary,
  ScriptVersion,
  SealedSecrets,
  VersionMeta,
} from "../../store/types.js";

/** The store keeps epoch milliseconds; the API speaks ISO-8601. */
export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export interface SummaryView {
  name: string;
  activeVersion: number;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export function presentSummary(summary: ScriptSummary): SummaryView {
  return {
    name: summary.name,
    activeVersion: summary.activeVersion,
    latestVersion: summary.latestVersion,
    createdAt: iso(summary.createdAt),
    updatedAt: iso(summary.updatedAt),
  };
}

/** Secrets are shown by name only, sorted; their values never leave through the API. */
export function secretNames(secrets: SealedSecrets): string[] {
  return Object.keys(secrets).sort();
}

export interface VersionView {
  name: string;
  version: number;
  sha256: string;
  vars: Record<string, string>;
  /** Names only. */
  secrets: string[];
  limits: ScriptLimits;
  /** Binding name -> `{ type: "kv", namespace, namespaceId }`. */
  bindings: ScriptBindings;
  createdAt: string;
  active: boolean;
}

export function presentVersion(meta: VersionMeta, activeVersion: number): VersionView {
  return {
    name: meta.name,
    version: meta.version,
    sha256: meta.sha256,
    vars: meta.vars,
    secrets: secretNames(meta.secrets),
    limits: meta.limits,
    bindings: meta.bindings,
    createdAt: iso(meta.createdAt),
    active: meta.version === activeVersion,
  };
}

/** A script as `GET /v1/scripts/:name` and rollback show it: the active version, never its source. */
export interface ScriptView {
  name: string;
  version: number;
  /** What the active version was deployed as (`GET …/source` returns it; nodes run JavaScript). */
  language: "js" | "ts";
  sha256: string;
  vars: Record<string, string>;
  /** Names only. */
  secrets: string[];
  limits: ScriptLimits;
  bindings: ScriptBindings;
  /** The active version's Cron Triggers (UTC). */
  triggers: { crons: string[] };
  /** When the active version was deployed. */
  createdAt: string;
  /** When the script last changed (deploy or rollback). */
  updatedAt: string;
  activeVersion: number;
  latestVersion: number;
  /** A multi-module version's modules (the main one first), without their contents; null for one module. */
  modules: Array<{ name: string; type: string; bytes: number }> | null;
}

export function presentScript(active: ScriptVersion, summary: ScriptSummary): ScriptView {
  return {
    name: active.name,
    version: active.version,
    language: active.tsSource === null ? "js" : "ts",
    sha256: active.sha256,
    vars: active.vars,
    secrets: secretNames(active.secrets),
    limits: active.limits,
    bindings: active.bindings,
    triggers: { crons: active.crons },
    createdAt: iso(active.createdAt),
    updatedAt: iso(summary.updatedAt),
    activeVersion: summary.activeVersion,
    latestVersion: summary.latestVersion,
    modules:
      active.modules === null
        ? null
        : [
            { name: active.modules.main, type: "esm", bytes: Buffer.byteLength(active.source, "utf8") },
            ...active.modules.modules.map((m) => ({
              name: m.name,
              type: m.type,
              bytes: m.content.byteLength,
            })),
          ],
  };
}

export interface RolloutEntry {
  nodeId: string;
  pop: string;
  /** The version serving the node's traffic (the rest of it, with a canary). */
  version: number;
  /** Present while the node splits traffic: the canary version and its share. */
  canary?: { version: number; percent: number };
}

/** Which version of the script each node reports running (nodes without it are left out). */
export function rollout(name: string, nodes: NodeView[]): RolloutEntry[] {
  const entries: RolloutEntry[] = [];
  for (const node of nodes) {
    const version = node.scripts[name];
    if (version === undefined) continue;
    const canary = node.canaries?.[name];
    entries.push({ nodeId: node.id, pop: node.pop, version, ...(canary ? { canary: { ...canary } } : {}) });
  }
  return entries;
}

/** A gradual rollout in progress, as the API shows it. */
export interface StagedView {
  version: number;
  /** Share of every PoP's clients, or null when `pops` is used. */
  percent: number | null;
  /** PoPs running it for all their traffic, or null when `percent` is used. */
  pops: string[] | null;
  startedAt: string;
}

export function presentStaged(rollout: ScriptRollout | null): StagedView | null {
  if (rollout === null) return null;
  return {
    version: rollout.version,
    percent: rollout.percent,
    pops: rollout.pops === null ? null : [...rollout.pops],
    startedAt: iso(rollout.startedAt),
  };
}
