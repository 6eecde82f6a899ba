import { z } from "zod";
import { EdgeError } from "../errors.js";
import type {
  NewVersion,
  NodeState,
  ScriptBindings,
  ScriptLimits,
  ScriptVersion,
  SealedSecrets,
  VersionModules,
} from "./types.js";

/**
 * How both stores turn a version's settings into strings and back. Stored data
 * is parsed rather than cast, so a corrupted row fails loudly instead of
 * reaching a node as garbage.
 */

const varsSchema = z.record(z.string(), z.string());
const limitsSchema = z.object({ cpuMs: z.number(), memoryMb: z.number(), wallMs: z.number() });

export function encodeVars(vars: Record<string, string>): string {
  return JSON.stringify(vars);
}

/** Only the known limit fields are stored, whatever else the caller's object carries. */
export function encodeLimits(limits: ScriptLimits): string {
  return JSON.stringify({ cpuMs: limits.cpuMs, memoryMb: limits.memoryMb, wallMs: limits.wallMs });
}

export function decodeVars(json: string, where: string): Record<string, string> {
  return parseStored(varsSchema, json, `vars of ${where}`);
}

export function decodeLimits(json: string, where: string): ScriptLimits {
  return parseStored(limitsSchema, json, `limits of ${where}`);
}

/** Sealed secrets are a name -> string map like vars; versions written before secrets existed have none. */
export function encodeSecrets(secrets: SealedSecrets): string {
  return JSON.stringify(secrets);
}

export function decodeSecrets(json: string | null | undefined, where: string): SealedSecrets {
  return json == null ? {} : parseStored(varsSchema, json, `secrets of ${where}`);
}

const modulesSchema = z.object({
  main: z.string(),
  modules: z.array(
    z.object({
      name: z.string(),
      type: z.enum(["esm", "text", "data", "wasm", "sourcemap"]),
      content: z.base64(),
    }),
  ),
});

/** A multi-module version's modules as JSON, contents in base64; null for a single-module version. */
export function encodeModules(modules: VersionModules | null | undefined): string | null {
  if (modules == null) return null;
  return JSON.stringify({
    main: modules.main,
    modules: modules.modules.map((m) => ({
      name: m.name,
      type: m.type,
      content: Buffer.from(m.content).toString("base64"),
    })),
  });
}

export function decodeModules(json: string | null | undefined, where: string): VersionModules | null {
  if (json == null || json === "") return null;
  const parsed = parseStored(modulesSchema, json, `modules of ${where}`);
  return {
    main: parsed.main,
    modules: parsed.modules.map((m) => ({
      name: m.name,
      type: m.type,
      content: new Uint8Array(Buffer.from(m.content, "base64")),
    })),
  };
}

const bindingsSchema = z.record(
  z.string(),
  z.object({ type: z.literal("kv"), namespaceId: z.string(), namespace: z.string() }),
);

export function encodeBindings(bindings: ScriptBindings): string {
  return JSON.stringify(bindings);
}

/** Versions written before bindings existed have none. */
export function decodeBindings(json: string | null | undefined, where: string): ScriptBindings {
  return json == null ? {} : parseStored(bindingsSchema, json, `bindings of ${where}`);
}

const cronsSchema = z.array(z.string());

export function encodeCrons(crons: readonly string[]): string {
  return JSON.stringify(crons);
}

/** Versions written before Cron Triggers existed have none. */
export function decodeCrons(json: string | null | undefined, where: string): string[] {
  return json == null ? [] : parseStored(cronsSchema, json, `crons of ${where}`);
}

/** The strings a store persists for one version, in one place so both stores agree. */
export interface EncodedVersion {
  sha256: string;
  source: string;
  tsSource: string | null;
  modulesJson: string | null;
  varsJson: string;
  secretsJson: string;
  limitsJson: string;
  bindingsJson: string;
  cronsJson: string;
}

export function encodeVersion(input: NewVersion): EncodedVersion {
  return {
    sha256: input.sha256,
    source: input.source,
    tsSource: input.tsSource ?? null,
    modulesJson: encodeModules(input.modules),
    varsJson: encodeVars(input.vars),
    secretsJson: encodeSecrets(input.secrets ?? {}),
    limitsJson: encodeLimits(input.limits),
    bindingsJson: encodeBindings(input.bindings ?? {}),
    cronsJson: encodeCrons(input.crons ?? []),
  };
}

export interface StoredVersionFields {
  sha256: string;
  source: string;
  /** Null (or absent, in data from before TypeScript deploys) for a JavaScript deploy. */
  tsSource?: string | null;
  /** Null (or absent, in data from before multi-module versions) for a single-module version. */
  modulesJson?: string | null;
  varsJson: string;
  /** Absent in data from before secrets: none. */
  secretsJson?: string | null;
  limitsJson: string;
  /** Absent in data from before bindings: none. */
  bindingsJson?: string | null;
  /** Absent in data from before Cron Triggers: none. */
  cronsJson?: string | null;
  createdAt: number;
}

export function decodeVersion(name: string, version: number, fields: StoredVersionFields): ScriptVersion {
  const where = `${name}@${version}`;
  return {
    name,
    version,
    sha256: fields.sha256,
    source: fields.source,
    tsSource: fields.tsSource ?? null,
    modules: decodeModules(fields.modulesJson, where),
    vars: decodeVars(fields.varsJson, where),
    secrets: decodeSecrets(fields.secretsJson, where),
    limits: decodeLimits(fields.limitsJson, where),
    bindings: decodeBindings(fields.bindingsJson, where),
    crons: decodeCrons(fields.cronsJson, where),
    createdAt: fields.createdAt,
  };
}

/** A store-side number (Redis returns strings): anything but a safe integer is corruption. */
export function storedInt(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new EdgeError("EDGE_INTERNAL", `The store holds an invalid ${what}: ${String(value)}`);
  }
  return n;
}

/** Version numbers from callers: anything that cannot be a stored version simply matches nothing. */
export function isVersionNumber(version: number): boolean {
  return Number.isSafeInteger(version) && version > 0;
}

function parseStored<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new EdgeError("EDGE_INTERNAL", `The store holds invalid JSON for the ${what}`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new EdgeError("EDGE_INTERNAL", `The store holds invalid ${what}: ${parsed.error.message}`);
  }
  return parsed.data;
}

const popsSchema = z.array(z.string());

export function encodePops(pops: string[]): string {
  return JSON.stringify(pops);
}

export function decodePops(json: string, where: string): string[] {
  return parseStored(popsSchema, json, `rollout PoPs of ${where}`);
}

const nodeStateSchema = z.object({
  id: z.string(),
  pop: z.string(),
  lat: z.number(),
  lon: z.number(),
  httpAddress: z.string(),
  agentVersion: z.string(),
  controlPlaneId: z.string(),
  connected: z.boolean(),
  lastSeenMs: z.number(),
  configVersion: z.number(),
  releases: z.record(z.string(), z.string()),
  parked: z.record(z.string(), z.string()),
  nackCount: z.number(),
  lastNack: z
    .object({ script: z.string(), version: z.number(), error: z.string(), at: z.number() })
    .nullable(),
  failingChecks: z.array(z.string()),
  retrying: z.record(z.string(), z.string()).optional(),
  lastAckHadErrors: z.boolean(),
  inFlight: z.number(),
});

export function encodeNodeState(state: NodeState): string {
  return JSON.stringify(state);
}

export function decodeNodeState(json: string): NodeState {
  return parseStored(nodeStateSchema, json, "node state");
}

/**
 * Node states as a list: one that does not decode (written by an older
 * version, e.g. NaN coordinates stored as null) is skipped rather than
 * failing the whole list, which would stop node-state sharing between
 * replicas until it aged out. It is pruned with the others by its age.
 */
export function decodeNodeStates(jsons: Iterable<string>): NodeState[] {
  const states: NodeState[] = [];
  for (const json of jsons) {
    try {
      states.push(decodeNodeState(json));
    } catch {
      // Skipped: see above.
    }
  }
  return states;
}
