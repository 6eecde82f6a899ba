import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type LogFormat, processEnvShape } from "@edge/app-process";
import { isRoutingError, loadRoutingSettings, ROUTING_ENV_VARS, type RoutingSettings } from "@edge/routing";
import { z } from "zod";
import { EdgeError } from "./errors.js";
import { DEV_SECRETS_KEY, parseSecretsKey } from "./secrets/secret-box.js";
import type { ScriptLimits } from "./store/types.js";

/**
 * Every environment variable the control plane reads, parsed once at start-up.
 * The rest of the code only sees `Config`, where every field is set.
 *
 * | Variable                 | Default                         | Meaning                                        |
 * |--------------------------|---------------------------------|------------------------------------------------|
 * | `EDGE_DEV`               | `0`                             | `1`: development mode (see `EDGE_ADMIN_TOKEN`) |
 * | `EDGE_ADMIN_TOKEN`       | required; `dev-admin-token` if `EDGE_DEV=1` | bearer token for `/v1/*` (16+ chars; the dev token only with `EDGE_DEV=1`) |
 * | `EDGE_METRICS_TOKEN`     | unset (open)                    | bearer token `GET /metrics` requires (16+ chars) |
 * | `EDGE_STORE`             | `sqlite:.data/control-plane.db` | `sqlite:<path>`, `redis://...`, `redis-sentinel://h:26379,…/<master>` or `memory` |
 * | `EDGE_REDIS_MIN_REPLICAS` | `0`                            | Redis replicas a write must reach before it is acknowledged (`WAIT`) |
 * | `EDGE_REDIS_WAIT_MS`     | `1000`                          | how long a write waits for them (503 after)    |
 * | `EDGE_API_HOST`          | `127.0.0.1`                     | HTTP API bind host                             |
 * | `EDGE_API_PORT`          | `8080`                          | HTTP API port (`0`: any free port)             |
 * | `EDGE_GRPC_ADDRESS`      | `127.0.0.1:50051`               | gRPC bind `host:port` (port `0`: any)          |
 * | `EDGE_MAX_SCRIPT_BYTES`  | `1048576`                       | largest accepted script source, in bytes       |
 * | `EDGE_DEFAULT_CPU_MS`    | `50`                            | CPU limit when a deploy sets none              |
 * | `EDGE_DEFAULT_MEMORY_MB` | `128`                           | memory limit when a deploy sets none           |
 * | `EDGE_DEFAULT_WALL_MS`   | `30000`                         | wall-clock limit when a deploy sets none       |
 * | `EDGE_MAX_CPU_MS`        | `1000`                          | highest CPU limit a deploy may ask for         |
 * | `EDGE_MAX_MEMORY_MB`     | `512`                           | highest memory limit a deploy may ask for      |
 * | `EDGE_MAX_WALL_MS`       | `60000`                         | highest wall-clock limit a deploy may ask for  |
 * | `EDGE_NODE_TIMEOUT_MS`   | `15000`                         | no heartbeat for this long: node `disconnected`|
 * | `EDGE_NODE_RETENTION_HOURS` | `24`                         | a node silent this long is no longer listed    |
 * | `EDGE_NODE_SETTLE_MS`    | `45000`                         | after start, `GET /v1/nodes` says `settled: false` until every listed node is back or this passed |
 * | `EDGE_LOG_LEVEL`         | `info`                          | pino level (`fatal` ... `trace`, `silent`)     |
 * | `EDGE_LOG_FORMAT`        | `json`                          | `json` lines, or `pretty`: one line per event  |
 * | `EDGE_SHUTDOWN_GRACE_MS` | `10000`                         | SIGTERM/SIGINT: drain this long, then exit 1   |
 * | `EDGE_CONTROL_PLANE_ID`  | `<hostname>-<pid>`              | this instance's id in logs and to nodes        |
 * | `EDGE_PUSH_BATCH_MS`     | `100`                           | change batching window for pushes to nodes     |
 * | `EDGE_GRPC_MAX_MESSAGE_BYTES` | `67108864`                 | largest gRPC message either way (>= 2 scripts) |
 * | `EDGE_NODE_ENROLMENT`    | `0`                             | `1`: per-node tokens (`POST /v1/nodes/enrolments`) checked on every stream; required to bind gRPC beyond loopback |
 * | `EDGE_NODE_TOKEN`        | unset (no check)                | shared token every node must present (loopback binds only; not with `EDGE_NODE_ENROLMENT=1`) |
 * | `EDGE_GRPC_TLS_CERT` / `EDGE_GRPC_TLS_KEY` | unset (plaintext) | PEM files: serve gRPC over TLS          |
 * | `EDGE_GRPC_TLS_CLIENT_CA` | unset                          | PEM file: require node certificates it signed (mTLS) |
 * | `EDGE_METRICS_FLUSH_MS`  | `5000`                          | how often received metrics are stored (and ACKed) |
 * | `EDGE_METRICS_RETENTION_HOURS` | `24`                      | how long 1-minute metrics buckets are kept     |
 * | `EDGE_TAIL_BUFFER`       | `1000`                          | lines queued per tail reader before dropping   |
 * | `EDGE_TAIL_MAX_SESSIONS` | `100`                           | open tail sessions at most (429 beyond)        |
 * | `EDGE_LOGS_TIMEOUT_MS`   | `2000`                          | how long a log history query waits for nodes   |
 * | `EDGE_CRON_SECONDS`      | `0`                             | `1`: Cron Triggers may have a leading seconds field (6 fields; for tests) |
 * | `EDGE_SECRETS_KEY`       | unset (secrets refused); a public dev key if `EDGE_DEV=1` | 32 bytes, 64 hex digits or base64: encrypts secrets at rest |
 */
export interface Config {
  dev: boolean;
  adminToken: string;
  /** Bearer token `GET /metrics` requires; null: open, for a private network. */
  metricsToken: string | null;
  /** Store spec for `openStore`: `sqlite:<path>`, a `redis://` or `redis-sentinel://` URL, or `memory`. */
  store: string;
  /** Redis only: replicas each write must reach before it is acknowledged, and how long it may wait. */
  redisDurability: { minReplicas: number; replicaWaitMs: number };
  apiHost: string;
  apiPort: number;
  /** `host:port` the gRPC server binds. */
  grpcAddress: string;
  maxScriptBytes: number;
  defaultLimits: ScriptLimits;
  maxLimits: ScriptLimits;
  nodeTimeoutMs: number;
  /** A node not heard from for this long is forgotten (dropped from `GET /v1/nodes` and the store). */
  nodeRetentionMs: number;
  /** After start, the node view counts as settled once every listed node is back, or after this long. */
  nodeSettleMs: number;
  metrics: { flushMs: number; retentionMs: number };
  tail: { bufferSize: number; maxSessions: number; logsTimeoutMs: number };
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** How long a SIGTERM/SIGINT shutdown may drain before the process exits anyway. */
  shutdownGraceMs: number;
  controlPlaneId: string;
  /** Change batching window for pushes to nodes (ms). */
  pushBatchMs: number;
  grpcMaxMessageBytes: number;
  /** Shared token nodes must present on Connect (loopback binds only); null: no check. */
  nodeToken: string | null;
  /** Per-node enrolment: each node presents its own token, bound to its node id and PoP. */
  nodeEnrolment: boolean;
  /** Cron Triggers may carry a leading seconds field (test-only aid; `EDGE_CRON_SECONDS=1`). */
  cronSeconds: boolean;
  /** PEM contents, read at start-up; null: plaintext gRPC. */
  grpcTls: GrpcTls | null;
  /** AES-256-GCM key for secrets at rest (32 bytes); null: setting secrets is refused. */
  secretsKey: Buffer | null;
  /** How `GET /v1/route` locates clients and ranks nodes (the router's own variables, `@edge/routing`). */
  routing: RoutingSettings;
}

export interface GrpcTls {
  cert: Buffer;
  key: Buffer;
  /** Present: nodes must show a certificate this CA signed (mTLS). */
  clientCa: Buffer | null;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEV_ADMIN_TOKEN = "dev-admin-token";

/** A decimal integer in a range; env values are strings, and `Number("")` would be 0. */
function integer(defaultValue: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(defaultValue);
}

const nonEmpty = (defaultValue: string) =>
  z.string().trim().min(1, "must not be empty").default(defaultValue);

const envSchema = z.object({
  EDGE_DEV: z.enum(["0", "1", "true", "false"]).default("0"),
  EDGE_ADMIN_TOKEN: z.string().trim().min(1, "must not be empty").optional(),
  EDGE_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  // The spec's forms are checked by `openStore`, which owns them (sqlite:, redis://, memory, ...).
  EDGE_STORE: nonEmpty("sqlite:.data/control-plane.db"),
  EDGE_REDIS_MIN_REPLICAS: integer(0, 0, 16),
  EDGE_REDIS_WAIT_MS: integer(1_000, 1, 60_000),
  EDGE_API_HOST: nonEmpty("127.0.0.1"),
  EDGE_API_PORT: integer(8080, 0, 65535),
  EDGE_GRPC_ADDRESS: nonEmpty("127.0.0.1:50051").refine(
    (address) => /^.+:\d{1,5}$/.test(address) && Number(address.slice(address.lastIndexOf(":") + 1)) <= 65535,
    "expected host:port",
  ),
  EDGE_MAX_SCRIPT_BYTES: integer(1_048_576, 1),
  EDGE_DEFAULT_CPU_MS: integer(50, 1),
  EDGE_DEFAULT_MEMORY_MB: integer(128, 8),
  EDGE_DEFAULT_WALL_MS: integer(30_000, 1),
  EDGE_MAX_CPU_MS: integer(1000, 1),
  EDGE_MAX_MEMORY_MB: integer(512, 8),
  EDGE_MAX_WALL_MS: integer(60_000, 1),
  EDGE_NODE_TIMEOUT_MS: integer(15_000, 1),
  EDGE_NODE_RETENTION_HOURS: integer(24, 1, 24 * 365),
  EDGE_NODE_SETTLE_MS: integer(45_000, 0, 3_600_000),
  EDGE_METRICS_FLUSH_MS: integer(5_000, 50, 600_000),
  EDGE_METRICS_RETENTION_HOURS: integer(24, 1, 24 * 30),
  EDGE_TAIL_BUFFER: integer(1_000, 1, 1_000_000),
  EDGE_TAIL_MAX_SESSIONS: integer(100, 1, 10_000),
  EDGE_LOGS_TIMEOUT_MS: integer(2_000, 50, 60_000),
  EDGE_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  EDGE_LOG_FORMAT: processEnvShape.EDGE_LOG_FORMAT,
  EDGE_SHUTDOWN_GRACE_MS: processEnvShape.EDGE_SHUTDOWN_GRACE_MS,
  EDGE_CONTROL_PLANE_ID: z.string().trim().min(1, "must not be empty").optional(),
  EDGE_PUSH_BATCH_MS: integer(100, 0, 10_000),
  EDGE_GRPC_MAX_MESSAGE_BYTES: integer(64 * 1024 * 1024, 4 * 1024 * 1024, 2 ** 31 - 1),
  EDGE_NODE_TOKEN: z.string().trim().min(16, "use at least 16 characters").optional(),
  EDGE_NODE_ENROLMENT: z.enum(["0", "1", "true", "false"]).default("0"),
  EDGE_CRON_SECONDS: z.enum(["0", "1", "true", "false"]).default("0"),
  EDGE_GRPC_TLS_CERT: z.string().trim().min(1).optional(),
  EDGE_GRPC_TLS_KEY: z.string().trim().min(1).optional(),
  EDGE_GRPC_TLS_CLIENT_CA: z.string().trim().min(1).optional(),
  EDGE_SECRETS_KEY: z.string().trim().min(1).optional(),
});

type Env = z.infer<typeof envSchema>;

/** Every environment variable the control plane reads (the compose file is checked against this). */
export const CONTROL_PLANE_ENV_VARS: readonly string[] = [
  ...Object.keys(envSchema.shape),
  ...ROUTING_ENV_VARS,
];

function invalid(variable: string, problem: string): EdgeError {
  return new EdgeError("EDGE_INVALID_CONFIG", `Invalid configuration: ${variable}: ${problem}`);
}

/** Parses the environment once. Throws an `EDGE_INVALID_CONFIG` error naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as shells and compose files often produce them.
  const present = Object.fromEntries(
    CONTROL_PLANE_ENV_VARS.map((key) => [key, env[key]] as const).filter(
      ([, value]) => value !== undefined && value !== "",
    ),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
    throw new EdgeError("EDGE_INVALID_CONFIG", `Invalid configuration: ${problems.join("; ")}`);
  }
  const e: Env = parsed.data;
  const dev = e.EDGE_DEV === "1" || e.EDGE_DEV === "true";

  const adminToken = e.EDGE_ADMIN_TOKEN ?? (dev ? DEV_ADMIN_TOKEN : undefined);
  if (adminToken === undefined) {
    throw invalid("EDGE_ADMIN_TOKEN", "required (or set EDGE_DEV=1 to use the development token)");
  }
  if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH && !(dev && adminToken === DEV_ADMIN_TOKEN)) {
    throw invalid(
      "EDGE_ADMIN_TOKEN",
      `use at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24); the development token needs EDGE_DEV=1`,
    );
  }
  const nodeEnrolment = e.EDGE_NODE_ENROLMENT === "1" || e.EDGE_NODE_ENROLMENT === "true";
  checkNodeAuth(e.EDGE_GRPC_ADDRESS, nodeEnrolment, e.EDGE_NODE_TOKEN !== undefined);

  const defaultLimits = {
    cpuMs: e.EDGE_DEFAULT_CPU_MS,
    memoryMb: e.EDGE_DEFAULT_MEMORY_MB,
    wallMs: e.EDGE_DEFAULT_WALL_MS,
  };
  const maxLimits = { cpuMs: e.EDGE_MAX_CPU_MS, memoryMb: e.EDGE_MAX_MEMORY_MB, wallMs: e.EDGE_MAX_WALL_MS };
  const pairs = [
    ["EDGE_DEFAULT_CPU_MS", "EDGE_MAX_CPU_MS", "cpuMs"],
    ["EDGE_DEFAULT_MEMORY_MB", "EDGE_MAX_MEMORY_MB", "memoryMb"],
    ["EDGE_DEFAULT_WALL_MS", "EDGE_MAX_WALL_MS", "wallMs"],
  ] as const;
  for (const [defaultName, maxName, key] of pairs) {
    if (defaultLimits[key] > maxLimits[key]) {
      throw invalid(defaultName, `${defaultLimits[key]} is above ${maxName} (${maxLimits[key]})`);
    }
  }

  return {
    dev,
    adminToken,
    metricsToken: e.EDGE_METRICS_TOKEN ?? null,
    store: e.EDGE_STORE,
    redisDurability: { minReplicas: e.EDGE_REDIS_MIN_REPLICAS, replicaWaitMs: e.EDGE_REDIS_WAIT_MS },
    apiHost: e.EDGE_API_HOST,
    apiPort: e.EDGE_API_PORT,
    grpcAddress: e.EDGE_GRPC_ADDRESS,
    maxScriptBytes: e.EDGE_MAX_SCRIPT_BYTES,
    defaultLimits,
    maxLimits,
    nodeTimeoutMs: e.EDGE_NODE_TIMEOUT_MS,
    nodeRetentionMs: e.EDGE_NODE_RETENTION_HOURS * 3_600_000,
    nodeSettleMs: e.EDGE_NODE_SETTLE_MS,
    metrics: { flushMs: e.EDGE_METRICS_FLUSH_MS, retentionMs: e.EDGE_METRICS_RETENTION_HOURS * 3_600_000 },
    tail: {
      bufferSize: e.EDGE_TAIL_BUFFER,
      maxSessions: e.EDGE_TAIL_MAX_SESSIONS,
      logsTimeoutMs: e.EDGE_LOGS_TIMEOUT_MS,
    },
    logLevel: e.EDGE_LOG_LEVEL,
    logFormat: e.EDGE_LOG_FORMAT,
    shutdownGraceMs: e.EDGE_SHUTDOWN_GRACE_MS,
    controlPlaneId: e.EDGE_CONTROL_PLANE_ID ?? `${hostname()}-${process.pid}`,
    pushBatchMs: e.EDGE_PUSH_BATCH_MS,
    grpcMaxMessageBytes: checkMessageLimit(e.EDGE_GRPC_MAX_MESSAGE_BYTES, e.EDGE_MAX_SCRIPT_BYTES),
    nodeToken: e.EDGE_NODE_TOKEN ?? null,
    nodeEnrolment,
    cronSeconds: e.EDGE_CRON_SECONDS === "1" || e.EDGE_CRON_SECONDS === "true",
    grpcTls: loadTls(e),
    secretsKey: secretsKey(e.EDGE_SECRETS_KEY, dev),
    routing: routingSettings(env),
  };
}

/** The shortest admin token accepted (the development token aside, under EDGE_DEV=1). */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/**
 * Secure by default: whoever reaches the gRPC port and passes its check
 * receives every script with its secrets and can advertise a PoP to the
 * router. A bind beyond loopback therefore needs per-node enrolment; a shared
 * token (not bound to a node id) is only accepted on loopback.
 */
function checkNodeAuth(grpcAddress: string, enrolment: boolean, sharedToken: boolean): void {
  if (enrolment && sharedToken) {
    throw invalid(
      "EDGE_NODE_TOKEN",
      "a shared node token cannot be combined with EDGE_NODE_ENROLMENT=1 (each node presents its own token)",
    );
  }
  if (enrolment || isLoopbackAddress(grpcAddress)) return;
  throw invalid(
    "EDGE_NODE_ENROLMENT",
    `EDGE_GRPC_ADDRESS=${grpcAddress} is reachable beyond loopback: set EDGE_NODE_ENROLMENT=1 and enrol each ` +
      "node (POST /v1/nodes/enrolments), or bind gRPC to 127.0.0.1",
  );
}

/** Whether a `host:port` binds a loopback interface only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackAddress(address: string): boolean {
  let host = address.slice(0, address.lastIndexOf(":")).toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  if (host.startsWith("::ffff:")) host = host.slice("::ffff:".length);
  return /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}

/**
 * A push must fit a script with its canary (two versions, each up to
 * EDGE_MAX_SCRIPT_BYTES) plus framing, or some deploys could never reach nodes.
 */
function checkMessageLimit(maxMessageBytes: number, maxScriptBytes: number): number {
  const needed = 2 * maxScriptBytes + 1024 * 1024;
  if (maxMessageBytes < needed) {
    throw invalid(
      "EDGE_GRPC_MAX_MESSAGE_BYTES",
      `${maxMessageBytes} cannot carry two scripts of EDGE_MAX_SCRIPT_BYTES (${maxScriptBytes}); use at least ${needed}`,
    );
  }
  return maxMessageBytes;
}

function secretsKey(text: string | undefined, dev: boolean): Buffer | null {
  if (text === undefined) return dev ? DEV_SECRETS_KEY : null;
  const key = parseSecretsKey(text);
  // The value itself is never echoed: it is the key.
  if (key === null) throw invalid("EDGE_SECRETS_KEY", "expected 32 bytes as 64 hex digits or base64");
  return key;
}

function loadTls(e: Env): GrpcTls | null {
  const { EDGE_GRPC_TLS_CERT: certFile, EDGE_GRPC_TLS_KEY: keyFile, EDGE_GRPC_TLS_CLIENT_CA: caFile } = e;
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined)
      throw invalid("EDGE_GRPC_TLS_CLIENT_CA", "needs EDGE_GRPC_TLS_CERT and EDGE_GRPC_TLS_KEY");
    return null;
  }
  if (certFile === undefined) throw invalid("EDGE_GRPC_TLS_CERT", "required with EDGE_GRPC_TLS_KEY");
  if (keyFile === undefined) throw invalid("EDGE_GRPC_TLS_KEY", "required with EDGE_GRPC_TLS_CERT");
  return {
    cert: readPem("EDGE_GRPC_TLS_CERT", certFile),
    key: readPem("EDGE_GRPC_TLS_KEY", keyFile),
    clientCa: caFile === undefined ? null : readPem("EDGE_GRPC_TLS_CLIENT_CA", caFile),
  };
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw invalid(variable, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function routingSettings(env: NodeJS.ProcessEnv): RoutingSettings {
  try {
    return loadRoutingSettings(env);
  } catch (err) {
    if (isRoutingError(err)) throw new EdgeError("EDGE_INVALID_CONFIG", err.message, { cause: err });
    throw err;
  }
}
