/**
 * The control plane's only state. Two implementations (SQLite for a single
 * machine, Redis for clusters) pass one contract suite (`contract.ts`).
 *
 * Every mutation bumps a store-wide `revision` (monotonic, never reused) that
 * the push hub uses as the config version it sends to nodes. A mutation that
 * resolves has been durably written: the API acknowledges only after it.
 */

export interface ScriptLimits {
  cpuMs: number;
  memoryMb: number;
  wallMs: number;
}

/** One immutable version of a script, with the settings that travel with it. */
export interface ScriptVersion {
  name: string;
  version: number;
  sha256: string;
  source: string;
  vars: Record<string, string>;
  limits: ScriptLimits;
  /** epoch milliseconds */
  createdAt: number;
}

/** A version without its source: what listings return. */
export type VersionMeta = Omit<ScriptVersion, "source">;

export interface ScriptSummary {
  name: string;
  activeVersion: number;
  latestVersion: number;
  /** epoch ms of the script's first version */
  createdAt: number;
  /** epoch ms of the last change (deploy or rollback) */
  updatedAt: number;
}

export interface NewVersion {
  sha256: string;
  source: string;
  vars: Record<string, string>;
  limits: ScriptLimits;
}

/** The whole desired state: every live script's active version. */
export interface Snapshot {
  revision: number;
  scripts: ScriptVersion[];
}

export interface Store {
  /**
   * Stores a new immutable version (previous latest + 1, never reusing a number,
   * even after the script was deleted) and makes it active.
   */
  putVersion(name: string, input: NewVersion, now?: number): Promise<ScriptVersion>;
  /** The active version of a live script, or null if there is none. */
  getActive(name: string): Promise<ScriptVersion | null>;
  getVersion(name: string, version: number): Promise<ScriptVersion | null>;
  getSummary(name: string): Promise<ScriptSummary | null>;
  listScripts(): Promise<ScriptSummary[]>;
  /** Newest first. Empty for an unknown or deleted script. */
  listVersions(name: string): Promise<VersionMeta[]>;
  /** Makes an existing version active. Null if the script or version does not exist. */
  setActive(name: string, version: number, now?: number): Promise<ScriptSummary | null>;
  /** Removes a script and its versions; its version counter is kept. False if unknown. */
  deleteScript(name: string): Promise<boolean>;
  snapshot(): Promise<Snapshot>;
  revision(): Promise<number>;
  /** Throws if the backing store cannot be reached (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
