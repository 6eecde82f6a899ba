import { hostname } from "node:os";
import { z } from "zod";

/**
 * Every environment variable the edge node reads, parsed once at start-up.
 * The rest of the code only sees `EdgeNodeConfig`.
 */
const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const schema = z.object({
  EDGE_POP: z.string().regex(/^[a-z0-9-]{1,32}$/, "a short lowercase PoP code such as fra, iad or sin"),
  EDGE_NODE_ID: z.string().min(1).max(128).optional(),
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
  EDGE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
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
  controlPlaneAddress: string;
  zone: string;
  maxLimits: { cpuMs: number; memoryMb: number; wallMs: number };
  maxRequestBytes: number;
  metricsIntervalMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  readonly code = "EDGE_CONFIG_INVALID";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EdgeNodeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid edge node configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  return {
    nodeId: e.EDGE_NODE_ID ?? `${e.EDGE_POP}-${hostname()}`,
    pop: e.EDGE_POP,
    lat: e.EDGE_LAT,
    lon: e.EDGE_LON,
    httpHost: e.EDGE_HTTP_HOST,
    httpPort: e.EDGE_HTTP_PORT,
    publicHttpAddress: e.EDGE_PUBLIC_HTTP_ADDRESS ?? null,
    controlPlaneAddress: e.EDGE_CONTROL_PLANE,
    zone: e.EDGE_ZONE.toLowerCase(),
    maxLimits: { cpuMs: e.EDGE_MAX_CPU_MS, memoryMb: e.EDGE_MAX_MEMORY_MB, wallMs: e.EDGE_MAX_WALL_MS },
    maxRequestBytes: e.EDGE_MAX_REQUEST_BYTES,
    metricsIntervalMs: e.EDGE_METRICS_INTERVAL_MS,
    logLevel: e.EDGE_LOG_LEVEL,
  };
}
