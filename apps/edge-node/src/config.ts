import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { join } from "node:path";
import { type LogFormat, type LogLevel, processEnvShape } from "@edge/app-process";
import { z } from "zod";

/**
 * Every environment variable the edge node reads, parsed once at start-up.
 * The rest of the code only sees `EdgeNodeConfig`.
 */
const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const schema = z.object({
  EDGE_POP: z.string().regex(/^[a-z0-9-]{1,32}$/, "a short lowercase PoP code such as fra, iad or sin"),
  EDGE_NODE_ID: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, "1-63 characters of a-z, 0-9 and '-' (the control plane refuses others)")
    .optional(),
  EDGE_LAT: z.coerce.number().min(-90).max(90).default(0),
  EDGE_LON: z.coerce.number().min(-180).max(180).default(0),
  EDGE_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  EDGE_HTTP_PORT: int(8101),
  EDGE_PUBLIC_HTTP_ADDRESS: z.string().min(1).optional(),
  EDGE_CONTROL_PLANE: z.string().min(1).default("127.0.0.1:50051"),
  EDGE_ZONE: z.string().min(1).default("localhost"),
  EDGE_MAX_CPU_MS: int(1000),
  EDGE_MAX_MEMORY_MB: int(512),
  EDGE_MAX_WALL_MS: int(60_000),
  EDGE_MAX_REQUEST_BYTES: int(10 * 1024 * 1024),
  EDGE_METRICS_INTERVAL_MS: int(5_000),
  EDGE_TAIL_BUFFER: int(1_000),
  EDGE_TAIL_FLUSH_MS: z.coerce.number().int().min(10).default(100),
  EDGE_LOG_HISTORY_MAX: int(1_000),
  EDGE_LOG_HISTORY_MINUTES: z.coerce.number().int().min(1).default(15),
  EDGE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  EDGE_LOG_FORMAT: processEnvShape.EDGE_LOG_FORMAT,
  EDGE_SHUTDOWN_GRACE_MS: processEnvShape.EDGE_SHUTDOWN_GRACE_MS,
  EDGE_CACHE_DIR: z.string().min(1).optional(),
  EDGE_CACHE_MAX_MB: z.coerce.number().int().min(1).default(512),
  EDGE_CACHE_MAX_ENTRY_MB: z.coerce.number().int().min(1).default(32),
  EDGE_NODE_TOKEN: z
    .string()
    .min(1, "empty: set the token issued for this node (POST /v1/nodes/enrolments on the control plane)")
    .optional(),
  EDGE_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  EDGE_CONTROL_PLANE_CA: z.string().min(1).optional(),
  EDGE_CONTROL_PLANE_TLS_NAME: z.string().min(1).optional(),
  EDGE_NODE_TLS_CERT: z.string().min(1).optional(),
  EDGE_NODE_TLS_KEY: z.string().min(1).optional(),
  EDGE_GRPC_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(4 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  EDGE_RECONNECT_MAX_MS: z.coerce.number().int().min(100).default(30_000),
  EDGE_ISOLATE_THREADS: z.coerce.number().int().min(0).max(256).optional(),
  EDGE_ISOLATE_CONCURRENCY: z.coerce.number().int().min(1).max(4096).optional(),
  EDGE_MAX_QUEUED_REQUESTS: z.coerce.number().int().min(0).default(1024),
  EDGE_WARM_ISOLATES: z.coerce.number().int().min(0).max(64).default(2),
  EDGE_WARM_ISOLATES_MAX_MB: z.coerce.number().int().min(0).default(256),
  EDGE_PREPARED_SCRIPTS_MAX: z.coerce.number().int().min(1).default(1_000),
  EDGE_PUSH_PREPARE_MAX: int(8),
  EDGE_MAX_SUBREQUESTS: int(50),
  EDGE_FETCH_FORBIDDEN: z.string().optional(),
  EDGE_FETCH_ALLOW: z.string().optional(),
  EDGE_FETCH_INTERNAL: z.enum(["deny", "allow"]).default("deny"),
  EDGE_SCRIPT_CONCURRENCY: z.coerce.number().int().min(1).max(4096).optional(),
  EDGE_MAX_INFLIGHT_PER_SCRIPT: z.coerce.number().int().min(1).default(256),
  EDGE_STARTUP_CPU_MS: z.coerce.number().int().min(1).max(60_000).default(1_000),
  EDGE_MAX_BODY_BYTES_IN_FLIGHT: int(256 * 1024 * 1024),
  EDGE_MAX_HOST_BYTES: int(512 * 1024 * 1024),
  EDGE_MAX_CONNECTIONS: int(10_000),
  EDGE_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(20_000),
  EDGE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  EDGE_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  EDGE_MAX_RESPONSE_HEADER_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(32 * 1024),
  EDGE_NODE_CACHE_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "64 hex digits (a 256-bit key)")
    .optional(),
});

/** Every environment variable the edge node reads (the compose file is checked against this). */
export const EDGE_NODE_ENV_VARS: readonly string[] = Object.keys(schema.shape);

export interface EdgeNodeConfig {
  nodeId: string;
  pop: string;
  lat: number;
  lon: number;
  httpHost: string;
  httpPort: number;
  /** host:port the control plane and router should use to reach this node; derived from the bound port when unset. */
  publicHttpAddress: string | null;
  /** The first of `controlPlaneAddresses` (logs). */
  controlPlaneAddress: string;
  zone: string;
  maxLimits: { cpuMs: number; memoryMb: number; wallMs: number };
  maxRequestBytes: number;
  metricsIntervalMs: number;
  tail: {
    /** Traces buffered for open tail sessions before they are dropped (and counted). */
    bufferSize: number;
    flushMs: number;
    /** Request summaries kept per script for `GET /v1/scripts/:name/logs`. */
    historyPerScript: number;
    historyMaxAgeMs: number;
  };
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** How long a SIGTERM/SIGINT shutdown may drain before the process exits anyway. */
  shutdownGraceMs: number;
  /** Every control plane address (`EDGE_CONTROL_PLANE`, comma-separated); the agent fails over between them. */
  controlPlaneAddresses: string[];
  /** Where the last applied config is kept (`EDGE_CACHE_DIR`). */
  cacheDir: string;
  /**
   * The Cache API store (`<cacheDir>/http-cache`): bytes it may hold before least recently used
   * entries go (`EDGE_CACHE_MAX_MB`, default 512) and the largest body it stores
   * (`EDGE_CACHE_MAX_ENTRY_MB`, default 32).
   */
  httpCache: { maxBytes: number; maxEntryBytes: number };
  /** Enrolment token sent on Connect; null: none. */
  nodeToken: string | null;
  /** Bearer token `GET /metrics` requires (`EDGE_METRICS_TOKEN`); null: open, for a private network. */
  metricsToken: string | null;
  /** PEM contents; null: plaintext gRPC. */
  controlPlaneTls: ControlPlaneTls | null;
  grpcMaxMessageBytes: number;
  reconnectMaxMs: number;
  /** Worker threads that build and run isolates (`EDGE_ISOLATE_THREADS`, default: one per core; 0: main thread). */
  isolateThreads: number;
  /**
   * Requests starting in isolates at once (`EDGE_ISOLATE_CONCURRENCY`, default: two per core) and
   * requests waiting for that (`EDGE_MAX_QUEUED_REQUESTS`, default 1024) before EDGE_OVERLOADED.
   */
  admission: { concurrency: number; maxQueue: number; perScript: number; maxInFlightPerScript: number };
  /**
   * Isolates built ahead of time per hot script (`EDGE_WARM_ISOLATES`, default 2; 0: none) and the
   * memory they may hold together (`EDGE_WARM_ISOLATES_MAX_MB`, default 256).
   */
  warmIsolates: { perScript: number; maxBytes: number };
  /**
   * Script versions kept prepared (compiled, code caches, ready isolates) at once
   * (`EDGE_PREPARED_SCRIPTS_MAX`, default 1000); past it the least recently used is dropped and
   * prepared again on its next request. Versions held but not prepared cost only their source.
   */
  maxPreparedScripts: number;
  /**
   * New versions a push may bring and still be prepared before the node ACKs it
   * (`EDGE_PUSH_PREPARE_MAX`, default 8; 0: never). A larger push is verified (shape, module set,
   * sha256) and stored, ACKed at once, and each version is prepared on its first request.
   */
  pushPrepareMax: number;
  /**
   * Outbound fetch() of scripts: subrequests per request, targets they may never reach
   * (`EDGE_FETCH_FORBIDDEN`), whether internal addresses are refused (`EDGE_FETCH_INTERNAL`, default
   * deny) and the operator's exceptions to that (`EDGE_FETCH_ALLOW`).
   */
  fetch: {
    maxSubrequests: number;
    forbiddenTargets: string[];
    denyInternal: boolean;
    allowTargets: string[];
  };
  /** Subrequest-body bytes the host may hold for all scripts at once (`EDGE_MAX_HOST_BYTES`). */
  maxHostBytes: number;
  /** CPU time a script's top-level code may take when a version is prepared (`EDGE_STARTUP_CPU_MS`, default 1000). */
  startupCpuMs: number;
  /** Bounds on the HTTP front (see http/front-limits.ts). */
  front: {
    /** Request-body bytes all requests may hold in memory at once (`EDGE_MAX_BODY_BYTES_IN_FLIGHT`). */
    maxBodyBytesInFlight: number;
    /** Open client connections (`EDGE_MAX_CONNECTIONS`). */
    maxConnections: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Largest response head (names and values) a script may return (`EDGE_MAX_RESPONSE_HEADER_BYTES`). */
    maxResponseHeaderBytes: number;
  };
  /** Key that seals scripts' env (secrets) in the config cache (`EDGE_NODE_CACHE_KEY`); null: a key file beside the cache. */
  cacheKey: Buffer | null;
}

export interface ControlPlaneTls {
  /** The CA that signed the control plane's certificate. */
  ca: Buffer;
  /** The name to check the certificate against, when it differs from the address's host. */
  serverName: string | null;
  /** This node's certificate and key, for mTLS. */
  cert: Buffer | null;
  key: Buffer | null;
}

export class ConfigError extends Error {
  readonly code = "EDGE_CONFIG_INVALID";
}

/** `<pop>-<hostname>`, made into what the control plane accepts as a node id. */
function defaultNodeId(pop: string): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-");
  return `${pop}-${host}`.slice(0, 63).replace(/-+$/, "") || pop;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EdgeNodeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid edge node configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const nodeId = e.EDGE_NODE_ID ?? defaultNodeId(e.EDGE_POP);
  const controlPlaneAddresses = e.EDGE_CONTROL_PLANE.split(",")
    .map((address) => address.trim())
    .filter((address) => address !== "");
  if (controlPlaneAddresses.length === 0) {
    throw new ConfigError("invalid edge node configuration:\n  EDGE_CONTROL_PLANE: no address");
  }
  return {
    nodeId,
    pop: e.EDGE_POP,
    lat: e.EDGE_LAT,
    lon: e.EDGE_LON,
    httpHost: e.EDGE_HTTP_HOST,
    httpPort: e.EDGE_HTTP_PORT,
    publicHttpAddress: e.EDGE_PUBLIC_HTTP_ADDRESS ?? null,
    controlPlaneAddress: controlPlaneAddresses[0]!,
    zone: e.EDGE_ZONE.toLowerCase(),
    maxLimits: { cpuMs: e.EDGE_MAX_CPU_MS, memoryMb: e.EDGE_MAX_MEMORY_MB, wallMs: e.EDGE_MAX_WALL_MS },
    maxRequestBytes: e.EDGE_MAX_REQUEST_BYTES,
    metricsIntervalMs: e.EDGE_METRICS_INTERVAL_MS,
    tail: {
      bufferSize: e.EDGE_TAIL_BUFFER,
      flushMs: e.EDGE_TAIL_FLUSH_MS,
      historyPerScript: e.EDGE_LOG_HISTORY_MAX,
      historyMaxAgeMs: e.EDGE_LOG_HISTORY_MINUTES * 60_000,
    },
    logLevel: e.EDGE_LOG_LEVEL,
    logFormat: e.EDGE_LOG_FORMAT,
    shutdownGraceMs: e.EDGE_SHUTDOWN_GRACE_MS,
    controlPlaneAddresses,
    cacheDir: e.EDGE_CACHE_DIR ?? join(".data", "edge-cache", nodeId),
    httpCache: {
      maxBytes: e.EDGE_CACHE_MAX_MB * 1024 * 1024,
      maxEntryBytes: e.EDGE_CACHE_MAX_ENTRY_MB * 1024 * 1024,
    },
    nodeToken: e.EDGE_NODE_TOKEN ?? null,
    metricsToken: e.EDGE_METRICS_TOKEN ?? null,
    controlPlaneTls: loadTls(e),
    grpcMaxMessageBytes: e.EDGE_GRPC_MAX_MESSAGE_BYTES,
    reconnectMaxMs: e.EDGE_RECONNECT_MAX_MS,
    isolateThreads: e.EDGE_ISOLATE_THREADS ?? availableParallelism(),
    warmIsolates: { perScript: e.EDGE_WARM_ISOLATES, maxBytes: e.EDGE_WARM_ISOLATES_MAX_MB * 1024 * 1024 },
    maxPreparedScripts: e.EDGE_PREPARED_SCRIPTS_MAX,
    pushPrepareMax: e.EDGE_PUSH_PREPARE_MAX,
    admission: {
      concurrency: e.EDGE_ISOLATE_CONCURRENCY ?? 2 * availableParallelism(),
      maxQueue: e.EDGE_MAX_QUEUED_REQUESTS,
      perScript:
        e.EDGE_SCRIPT_CONCURRENCY ??
        Math.max(1, Math.ceil((e.EDGE_ISOLATE_CONCURRENCY ?? 2 * availableParallelism()) / 2)),
      maxInFlightPerScript: e.EDGE_MAX_INFLIGHT_PER_SCRIPT,
    },
    fetch: {
      maxSubrequests: e.EDGE_MAX_SUBREQUESTS,
      // By default scripts may not reach the control plane (nor, below, this node's own front).
      forbiddenTargets:
        e.EDGE_FETCH_FORBIDDEN === undefined
          ? [...controlPlaneAddresses]
          : e.EDGE_FETCH_FORBIDDEN.split(",")
              .map((t) => t.trim())
              .filter((t) => t !== ""),
      denyInternal: e.EDGE_FETCH_INTERNAL === "deny",
      allowTargets: (e.EDGE_FETCH_ALLOW ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== ""),
    },
    startupCpuMs: e.EDGE_STARTUP_CPU_MS,
    maxHostBytes: e.EDGE_MAX_HOST_BYTES,
    front: {
      maxBodyBytesInFlight: e.EDGE_MAX_BODY_BYTES_IN_FLIGHT,
      maxConnections: e.EDGE_MAX_CONNECTIONS,
      headersTimeoutMs: e.EDGE_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.EDGE_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.EDGE_KEEP_ALIVE_TIMEOUT_MS,
      maxResponseHeaderBytes: e.EDGE_MAX_RESPONSE_HEADER_BYTES,
    },
    cacheKey: e.EDGE_NODE_CACHE_KEY === undefined ? null : Buffer.from(e.EDGE_NODE_CACHE_KEY, "hex"),
  };
}

function loadTls(e: z.infer<typeof schema>): ControlPlaneTls | null {
  const problem = (text: string) => new ConfigError(`invalid edge node configuration:\n  ${text}`);
  if (e.EDGE_CONTROL_PLANE_CA === undefined) {
    if (e.EDGE_NODE_TLS_CERT !== undefined || e.EDGE_NODE_TLS_KEY !== undefined) {
      throw problem("EDGE_NODE_TLS_CERT/EDGE_NODE_TLS_KEY: need EDGE_CONTROL_PLANE_CA (TLS)");
    }
    return null;
  }
  if ((e.EDGE_NODE_TLS_CERT === undefined) !== (e.EDGE_NODE_TLS_KEY === undefined)) {
    throw problem("EDGE_NODE_TLS_CERT and EDGE_NODE_TLS_KEY go together");
  }
  const read = (variable: string, path: string | undefined): Buffer | null => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (error) {
      throw problem(`${variable}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return {
    ca: read("EDGE_CONTROL_PLANE_CA", e.EDGE_CONTROL_PLANE_CA)!,
    serverName: e.EDGE_CONTROL_PLANE_TLS_NAME ?? null,
    cert: read("EDGE_NODE_TLS_CERT", e.EDGE_NODE_TLS_CERT),
    key: read("EDGE_NODE_TLS_KEY", e.EDGE_NODE_TLS_KEY),
  };
}
