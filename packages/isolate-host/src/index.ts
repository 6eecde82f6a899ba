/**
 * @edge/isolate-host — runs a Workers-style ES module for one HTTP request in
 * a brand-new V8 isolate (isolated-vm), with CPU, memory and wall-clock limits.
 */

export { isRunError, RUN_ERRORS, RunError, type RunErrorCode } from "./errors.js";
export { DEFAULT_FETCH_OPTIONS, type FetchOptions } from "./fetch/fetch-options.js";
export { isInternalAddress } from "./fetch/special-addresses.js";
export { HOP_HEADER, MAX_HOPS } from "./fetch/subrequest.js";
export type { CacheAccess, CacheCaller, CacheEntry, CacheProvider } from "./host/cache.js";
export type { KvAccess, KvCaller, KvListPage, KvProvider, KvValue, KvWriteMutation } from "./host/kv.js";
export { DEFAULT_MAX_LIMITS } from "./limits.js";
export { LOG_CAPS } from "./log-collector.js";
export { MAX_MODULES, moduleSetOf } from "./modules/module-set.js";
export {
  createIsolateRunner,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_STARTUP_CPU_MS,
  type IsolateRunner,
  type IsolateRunnerOptions,
  type PreparedScript,
} from "./runner.js";
export type {
  HostRequest,
  HostResponse,
  LogLevel,
  LogLine,
  ModuleType,
  RunOptions,
  RunResult,
  ScheduledEvent,
  ScheduledOutcomeKind,
  ScheduledResult,
  ScriptLimits,
  ScriptModule,
  StreamingResponse,
  StreamingRunResult,
  WaitUntilResult,
  WorkerScript,
} from "./types.js";
