import type { CronClaimStore } from "./cron-claims.js";
import type { KvStore } from "./kv-types.js";

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

/**
 * A script's secrets as stored: name -> value sealed with `EDGE_SECRETS_KEY`
 * (see `secrets/secret-box.ts`). Stores keep them opaque; only the API seals
 * and only the push hub opens.
 */
export type SealedSecrets = Record<string, string>;

/** A Workers KV namespace bound into a script's `env` (by id: a rename does not break it). */
export interface KvBinding {
  type: "kv";
  namespaceId: string;
  /** The namespace's name when the version was deployed. */
  namespace: string;
}

/** Binding name (an `env` key) -> what it binds. */
export type ScriptBindings = Record<string, KvBinding>;

/** One immutable version of a script, with the settings that travel with it. */
export interface ScriptVersion {
  name: string;
  version: number;
  sha256: string;
  /** The JavaScript nodes run (for a TypeScript deploy, esbuild's output); `sha256` is its hash. */
  source: string;
  /** The TypeScript the version was deployed as, or null for a JavaScript deploy. */
  tsSource: string | null;
  /** A multi-module version's main module name and other modules (`source` is the main one); null for one module. */
  modules: VersionModules | null;
  vars: Record<string, string>;
  secrets: SealedSecrets;
  limits: ScriptLimits;
  bindings: ScriptBindings;
  /** Cron Triggers (UTC cron expressions, validated at deploy); [] when none. */
  crons: string[];
  /** epoch milliseconds */
  createdAt: number;
}

/** The kinds of module a version may hold besides its main ES module (as Cloudflare's upload API). */
export type ModuleKind = "esm" | "text" | "data" | "wasm" | "sourcemap";

export interface StoredModule {
  name: string;
  type: ModuleKind;
  content: Uint8Array;
}

/** The modules of a multi-module version: its main module's name and every other module. */
export interface VersionModules {
  main: string;
  modules: StoredModule[];
}

/** A version without its sources: what listings return. */
export type VersionMeta = Omit<ScriptVersion, "source" | "tsSource" | "modules" | "crons">;

export interface ScriptSummary {
  name: string;
  activeVersion: number;
  latestVersion: number;
  /** epoch ms of the script's first version */
  createdAt: number;
  /** epoch ms of the last change (deploy, rollback, rollout) */
  updatedAt: number;
  /** A gradual rollout in progress, or null. */
  rollout: ScriptRollout | null;
}

/**
 * A gradual rollout: `version` (not the active one) runs on a share of the
 * traffic of every PoP (`percent`), or on all the traffic of the named PoPs
 * (`pops`), until it is promoted (made active) or aborted. Exactly one of
 * `percent` and `pops` is set.
 */
export interface ScriptRollout {
  version: number;
  /** 1..100 */
  percent: number | null;
  pops: string[] | null;
  /** epoch ms */
  startedAt: number;
}

export type RolloutTarget = { version: number; percent: number } | { version: number; pops: string[] };

/** A rollout in a snapshot, with the version it rolls out. */
export interface SnapshotRollout extends Omit<ScriptRollout, "version"> {
  name: string;
  target: ScriptVersion;
}

/** A page of `listScripts`: names after `after` (exclusive), at most `limit`. */
export interface ScriptPage {
  after?: string;
  limit?: number;
}

export interface NewVersion {
  sha256: string;
  source: string;
  /** Default null (a JavaScript deploy). */
  tsSource?: string | null;
  /** Default null (a single-module version). */
  modules?: VersionModules | null;
  vars: Record<string, string>;
  /** Default none. */
  secrets?: SealedSecrets;
  limits: ScriptLimits;
  /** Default none. */
  bindings?: ScriptBindings;
  /** Cron Triggers; default none. */
  crons?: string[];
}

/** The whole desired state: every live script's active version, and the rollouts in progress. */
export interface Snapshot {
  revision: number;
  scripts: ScriptVersion[];
  /** By name; each names a live script of `scripts`. */
  rollouts: SnapshotRollout[];
}

/**
 * What changed after a revision, read in one step: `changed` names every
 * script whose active version or rollout moved (or that was deleted) since,
 * and `scripts` / `rollouts` hold the state now of those among them that are
 * live. A name in `changed` but not in `scripts` is gone.
 */
export interface SnapshotChanges extends Snapshot {
  changed: string[];
}

/**
 * What one control-plane replica last knew about a node it serves, shared
 * through the store so that every replica lists every node. Not config: saving
 * it does not move the revision.
 */
export interface NodeState {
  id: string;
  pop: string;
  lat: number;
  lon: number;
  httpAddress: string;
  agentVersion: string;
  /** The replica that holds (or last held) the node's stream. */
  controlPlaneId: string;
  /** Whether that replica had an open stream to the node when it saved this. */
  connected: boolean;
  /** epoch ms of the last message from the node */
  lastSeenMs: number;
  configVersion: number;
  /** name -> release key the node runs ("3", or "3+4@10" with a canary) */
  releases: Record<string, string>;
  /** name -> release key the node rejected and is not sent again */
  parked: Record<string, string>;
  nackCount: number;
  lastNack: { script: string; version: number; error: string; at: number } | null;
  failingChecks: string[];
  /** Script name -> why the node is preparing its version again (absent: nothing retrying). */
  retrying?: Record<string, string>;
  lastAckHadErrors: boolean;
  inFlight: number;
}

/** A subscription to the store's change feed. */
export interface ChangeWatch {
  close(): Promise<void>;
}

export interface WatchHandlers {
  /**
   * Some mutation happened, through this Store or any other on the same data
   * (another replica), bringing the store to `revision` (when known). Also
   * called, without a revision, once the feed is established and whenever it
   * recovers from an outage, since changes may have been missed meanwhile.
   */
  onChange(revision?: number): void;
  /** The feed is broken for now; it keeps retrying. */
  onError(error: unknown): void;
}

export interface PutOptions {
  /** Default true. False stores the version without activating it (for a gradual rollout), unless the script has no active version yet. */
  activate?: boolean;
  /**
   * Compare-and-set for a version derived from the active one (new vars on its
   * code): store it only if the active version is still this one (null: the
   * script is still not live), else reject with `EDGE_CONFLICT` and store
   * nothing. Versions are immutable, so the same active number means the same
   * settings. Unset: no check.
   */
  ifActive?: number | null;
}

/**
 * A node allowed to connect (per-node enrolment): its id, the PoP it is bound
 * to and the sha256 (hex) of its token. The token itself is shown once, when
 * issued, and never stored.
 */
export interface NodeEnrolment {
  nodeId: string;
  pop: string;
  tokenSha256: string;
  /** epoch ms */
  createdAt: number;
}

export interface Store extends KvStore, CronClaimStore {
  /**
   * Stores a new immutable version (previous latest + 1, never reusing a number,
   * even after the script was deleted) and makes it active. Rejects with
   * `EDGE_CONFLICT` when `options.ifActive` no longer holds.
   */
  putVersion(name: string, input: NewVersion, now?: number, options?: PutOptions): Promise<ScriptVersion>;
  /** The active version of a live script, or null if there is none. */
  getActive(name: string): Promise<ScriptVersion | null>;
  getVersion(name: string, version: number): Promise<ScriptVersion | null>;
  getSummary(name: string): Promise<ScriptSummary | null>;
  /**
   * Live scripts in name order; with `page`, at most `limit` of them after the name `after`
   * (what `GET /v1/scripts?cursor=` pages through).
   */
  listScripts(page?: ScriptPage): Promise<ScriptSummary[]>;
  /** Newest first. Empty for an unknown or deleted script. */
  listVersions(name: string): Promise<VersionMeta[]>;
  /** Makes an existing version active (ending any rollout). Null if the script or version does not exist. */
  setActive(name: string, version: number, now?: number): Promise<ScriptSummary | null>;
  /**
   * Starts (or replaces) a gradual rollout of an existing version. Null if the
   * script or version does not exist. The caller checks that the version is
   * not the active one.
   */
  startRollout(name: string, target: RolloutTarget, now?: number): Promise<ScriptSummary | null>;
  /**
   * Ends the rollout in progress: `promote` makes its version active, `abort`
   * leaves the active version alone. Null if the script has no rollout.
   */
  finishRollout(name: string, outcome: "promote" | "abort", now?: number): Promise<ScriptSummary | null>;
  /** Removes a script and its versions; its version counter is kept. False if unknown. */
  deleteScript(name: string): Promise<boolean>;
  snapshot(): Promise<Snapshot>;
  /**
   * The desired state of what changed after `revision` (see `SnapshotChanges`), so a
   * reader keeps up at a cost that follows the change, not the number of scripts. Null
   * when the store can no longer tell (its change log was trimmed past `revision`, or
   * the store's revision is below it): read `snapshot()` instead.
   */
  changesSince(revision: number): Promise<SnapshotChanges | null>;
  revision(): Promise<number>;
  /** Follows every mutation made on the same data, by any replica (see `WatchHandlers`). */
  watch(handlers: WatchHandlers): ChangeWatch;
  /** Saves (replaces) these nodes' shared state. */
  saveNodeStates(states: NodeState[]): Promise<void>;
  /** Every node state any replica saved. */
  listNodeStates(): Promise<NodeState[]>;
  /**
   * Removes the states of nodes last heard from before `lastSeenBefore` (epoch
   * ms), whatever their `connected` flag says (a replica that died leaves its
   * nodes `connected`). Resolves with how many it removed.
   */
  pruneNodeStates(lastSeenBefore: number): Promise<number>;
  /** Stores an enrolment; false (nothing written) when that node id is enrolled already. */
  createEnrolment(enrolment: NodeEnrolment): Promise<boolean>;
  getEnrolment(nodeId: string): Promise<NodeEnrolment | null>;
  /** Every enrolment, by node id. */
  listEnrolments(): Promise<NodeEnrolment[]>;
  /** Removes (revokes) an enrolment; false if there was none. */
  deleteEnrolment(nodeId: string): Promise<boolean>;
  /** Throws if the backing store cannot be reached (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
