/**
 * @edge/isolate-host — runs a Workers-style ES module for one HTTP request in
 * a brand-new V8 isolate (isolated-vm), with CPU, memory and wall-clock limits.
 */

export { isRunError, RUN_ERRORS, RunError, type RunErrorCode } from "./errors.js";
export { DEFAULT_MAX_LIMITS } from "./limits.js";
export { LOG_CAPS } from "./log-collector.js";
export {
  createIsolateRunner,
  type IsolateRunner,
  type IsolateRunnerOptions,
  type PreparedScript,
} from "./runner.js";
export type {
  HostRequest,
  HostResponse,
  LogLevel,
  LogLine,
  RunResult,
  ScriptLimits,
  WorkerScript,
} from "./types.js";
