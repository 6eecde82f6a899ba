import { type LogFormat, processEnvShape } from "@edge/app-process";
import {
  isRoutingError,
  loadRoutingSettings,
  ROUTING_ENV_VARS,
  type RoutingSettings,
  TrustedProxies,
} from "@edge/routing";
import { z } from "zod";
import { RouterConfigError } from "./errors.js";

/**
 * Every environment variable the router reads, parsed once at start-up (the
 * routing ones, shared with the control plane, come from `@edge/routing`).
 *
 * | Variable                          | Default                              | Meaning                                                             |
 * |-----------------------------------|--------------------------------------|---------------------------------------------------------------------|
 * | `EDGE_ROUTER_HOST`                | `127.0.0.1`                          | HTTP entry bind host                                                |
 * | `EDGE_ROUTER_PORT`                | `8000`                               | HTTP entry port (`0`: any free port)                                |
 * | `EDGE_DNS_HOST`                   | `127.0.0.1`                          | DNS bind host (UDP and TCP)                                         |
 * | `EDGE_DNS_PORT`                   | `5353`                               | DNS port, UDP and TCP (`0`: any free port)                          |
 * | `EDGE_DNS_TTL`                    | `20`                                 | TTL of A/AAAA answers, seconds                                      |
 * | `EDGE_DNS_NS_NAME`                | `ns.<zone>`                          | the zone's NS (and SOA MNAME)                                       |
 * | `EDGE_ZONE`                       | `localhost`                          | scripts are `<script>.<zone>`                                       |
 * | `EDGE_API_URL`                    | `http://127.0.0.1:8080`              | the control plane's HTTP API                                        |
 * | `EDGE_ADMIN_TOKEN`                | required (dev token if `EDGE_DEV=1`) | bearer token for `GET /v1/nodes`                                    |
 * | `EDGE_DEV`                        | `0`                                  | `1`: allow the development token                                    |
 * | `EDGE_ROUTER_POLL_MS`             | `1000`                               | how often the node view is refreshed                                |
 * | `EDGE_ROUTER_POLL_TIMEOUT_MS`     | `3000`                               | how long one refresh may take                                       |
 * | `EDGE_ROUTER_CONNECT_TIMEOUT_MS`  | `2000`                               | connecting to a PoP longer than this: next one                      |
 * | `EDGE_ROUTER_RESPONSE_TIMEOUT_MS` | `10000`                              | waiting on a PoP's response head this long: retry if safe, else 504 |
 * | `EDGE_ROUTER_HOLD_DOWN_MS`        | `10000`                              | a PoP that was unreachable or timed out is passed over this long    |
 * | `EDGE_ROUTER_TRUSTED_PROXIES`     | none                                 | IPs/CIDRs whose `X-Forwarded-For` is believed                       |
 * | `EDGE_ROUTER_REDIRECT_URL`        | `http://{hostname}:{port}{path}`     | `?redirect` Location template                                       |
 * | `EDGE_LOG_LEVEL`                  | `info`                               | pino level                                                          |
 * | `EDGE_LOG_FORMAT`                 | `json`                               | `json` lines, or `pretty`: one line per event                       |
 * | `EDGE_SHUTDOWN_GRACE_MS`          | `10000`                              | SIGTERM/SIGINT: drain this long, then exit 1                        |
 *
 * "Waiting on a PoP" is the time the router has the whole request (or a body
 * chunk the PoP will not take) and no response head: a slow client upload
 * does not count against the PoP. `EDGE_ROUTER_HOLD_DOWN_MS=0` turns hold-down off.
 */
export interface RouterConfig {
  httpHost: string;
  httpPort: number;
  dnsHost: string;
  dnsPort: number;
  dnsTtl: number;
  dnsNsName: string;
  /** Lowercase, no trailing dot. */
  zone: string;
  apiUrl: string;
  adminToken: string;
  pollIntervalMs: number;
  pollTimeoutMs: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  holdDownMs: number;
  trustedProxies: TrustedProxies;
  redirectUrl: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** How long a SIGTERM/SIGINT shutdown may drain before the process exits anyway. */
  shutdownGraceMs: number;
  routing: RoutingSettings;
}

export const DEV_ADMIN_TOKEN = "dev-admin-token";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

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

const ZONE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const schema = z.object({
  EDGE_ROUTER_HOST: nonEmpty("127.0.0.1"),
  EDGE_ROUTER_PORT: integer(8000, 0, 65535),
  EDGE_DNS_HOST: nonEmpty("127.0.0.1"),
  EDGE_DNS_PORT: integer(5353, 0, 65535),
  EDGE_DNS_TTL: integer(20, 0, 86_400),
  EDGE_DNS_NS_NAME: z.string().trim().toLowerCase().regex(ZONE, "expected a host name").optional(),
  EDGE_ZONE: z
    .string()
    .trim()
    .toLowerCase()
    .transform((zone) => zone.replace(/\.$/, ""))
    .pipe(z.string().regex(ZONE, "expected a DNS name such as localhost or edge.example.com"))
    .default("localhost"),
  EDGE_API_URL: z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
    .transform((url) => url.replace(/\/+$/, ""))
    .default("http://127.0.0.1:8080"),
  EDGE_ADMIN_TOKEN: z.string().trim().min(1).optional(),
  EDGE_DEV: z.enum(["0", "1", "true", "false"]).default("0"),
  EDGE_ROUTER_POLL_MS: integer(1000, 50),
  EDGE_ROUTER_POLL_TIMEOUT_MS: integer(3000, 50),
  EDGE_ROUTER_CONNECT_TIMEOUT_MS: integer(2000, 1),
  EDGE_ROUTER_RESPONSE_TIMEOUT_MS: integer(10_000, 1),
  EDGE_ROUTER_HOLD_DOWN_MS: integer(10_000, 0),
  EDGE_ROUTER_TRUSTED_PROXIES: z.string().default(""),
  EDGE_ROUTER_REDIRECT_URL: z
    .string()
    .trim()
    .refine((t) => t.includes("{path}"), "must contain {path}")
    .default("http://{hostname}:{port}{path}"),
  EDGE_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  EDGE_LOG_FORMAT: processEnvShape.EDGE_LOG_FORMAT,
  EDGE_SHUTDOWN_GRACE_MS: processEnvShape.EDGE_SHUTDOWN_GRACE_MS,
});

/** Every environment variable the router reads (the compose file is checked against this). */
export const ROUTER_ENV_VARS: readonly string[] = [...Object.keys(schema.shape), ...ROUTING_ENV_VARS];

function invalid(problem: string): RouterConfigError {
  return new RouterConfigError(`Invalid configuration: ${problem}`);
}

/** Parses the environment once; throws `EDGE_INVALID_CONFIG` naming the bad variable(s). Empty counts as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join("; "),
    );
  }
  const e = parsed.data;
  const dev = e.EDGE_DEV === "1" || e.EDGE_DEV === "true";
  const adminToken = e.EDGE_ADMIN_TOKEN ?? (dev ? DEV_ADMIN_TOKEN : undefined);
  if (adminToken === undefined) {
    throw invalid("EDGE_ADMIN_TOKEN: required (or set EDGE_DEV=1 to use the development token)");
  }
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = TrustedProxies.parse(e.EDGE_ROUTER_TRUSTED_PROXIES);
  } catch (err) {
    throw invalid(`EDGE_ROUTER_TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  let routing: RoutingSettings;
  try {
    routing = loadRoutingSettings(env);
  } catch (err) {
    throw isRoutingError(err) ? new RouterConfigError(err.message) : err;
  }
  return {
    httpHost: e.EDGE_ROUTER_HOST,
    httpPort: e.EDGE_ROUTER_PORT,
    dnsHost: e.EDGE_DNS_HOST,
    dnsPort: e.EDGE_DNS_PORT,
    dnsTtl: e.EDGE_DNS_TTL,
    dnsNsName: e.EDGE_DNS_NS_NAME ?? `ns.${e.EDGE_ZONE}`,
    zone: e.EDGE_ZONE,
    apiUrl: e.EDGE_API_URL,
    adminToken,
    pollIntervalMs: e.EDGE_ROUTER_POLL_MS,
    pollTimeoutMs: e.EDGE_ROUTER_POLL_TIMEOUT_MS,
    connectTimeoutMs: e.EDGE_ROUTER_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: e.EDGE_ROUTER_RESPONSE_TIMEOUT_MS,
    holdDownMs: e.EDGE_ROUTER_HOLD_DOWN_MS,
    trustedProxies,
    redirectUrl: e.EDGE_ROUTER_REDIRECT_URL,
    logLevel: e.EDGE_LOG_LEVEL,
    logFormat: e.EDGE_LOG_FORMAT,
    shutdownGraceMs: e.EDGE_SHUTDOWN_GRACE_MS,
    routing,
  };
}
