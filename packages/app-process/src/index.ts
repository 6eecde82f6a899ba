/**
 * @edge/app-process — what every app process shares: the environment it reads
 * the same way (log level and format, shutdown grace), its root logger, the
 * pretty log format, and a shutdown bounded by the grace period.
 */
export { type AppLoggerOptions, createAppLogger } from "./logger.js";
export { formatLogLine, formatRecord, type PrettyOptions, wantsColor } from "./pretty.js";
export {
  DEFAULT_SHUTDOWN_GRACE_MS,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  MAX_SHUTDOWN_GRACE_MS,
  type ProcessSettings,
  processEnvShape,
  processSettings,
} from "./process-env.js";
export { handleShutdown, type Shutdown, type ShutdownOptions } from "./shutdown.js";
