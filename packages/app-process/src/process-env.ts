import { z } from "zod";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The longest grace period accepted: a process manager waits for us, and ours must stay short. */
export const MAX_SHUTDOWN_GRACE_MS = 120_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * The environment variables every app reads the same way, as zod fields each
 * app spreads into its own config schema (so its config is still parsed once):
 * `EDGE_LOG_LEVEL`, `EDGE_LOG_FORMAT` (`json`, the default, or `pretty`) and
 * `EDGE_SHUTDOWN_GRACE_MS`.
 */
export const processEnvShape = {
  EDGE_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  EDGE_LOG_FORMAT: z.enum(LOG_FORMATS).default("json"),
  EDGE_SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_SHUTDOWN_GRACE_MS)
    .default(DEFAULT_SHUTDOWN_GRACE_MS),
};

/** What an app's parsed config carries for its process. */
export interface ProcessSettings {
  logLevel: LogLevel;
  logFormat: LogFormat;
  shutdownGraceMs: number;
}

/** The parsed fields of `processEnvShape` as `ProcessSettings`. */
export function processSettings(e: {
  EDGE_LOG_LEVEL: LogLevel;
  EDGE_LOG_FORMAT: LogFormat;
  EDGE_SHUTDOWN_GRACE_MS: number;
}): ProcessSettings {
  return {
    logLevel: e.EDGE_LOG_LEVEL,
    logFormat: e.EDGE_LOG_FORMAT,
    shutdownGraceMs: e.EDGE_SHUTDOWN_GRACE_MS,
  };
}
