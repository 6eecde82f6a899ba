export { type AppDeps, buildApp, requestBodyLimit } from "./app.js";
export {
  CONTROL_PLANE_ENV_VARS,
  type Config,
  DEV_ADMIN_TOKEN,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
} from "./config.js";
export {
  EdgeError,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  type ErrorKind,
  errorBody,
  isEdgeError,
} from "./errors.js";
export type { DeployReply } from "./routes/scripts/deploy.js";
export { SCRIPT_NAME_PATTERN } from "./routes/scripts/params.js";
export type { RolloutEntry, ScriptView, SummaryView, VersionView } from "./routes/scripts/present.js";
