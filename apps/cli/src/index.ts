/**
 * @edge/cli — `edgectl`. The binary is `main.ts`; this face lets tests and
 * tools run a command line in-process with their own streams.
 */
export { ApiClient, type RequestOptions } from "./api-client.js";
export { bundleWorker, type UploadModule, type WorkerBundle } from "./bundle.js";
export { COMMANDS, run, VERSION } from "./cli.js";
export type { Command, CommandContext } from "./command.js";
export { bashCompletion, zshCompletion } from "./commands/completion.js";
export { starterFiles } from "./commands/init-templates.js";
export { type ScriptUrls, scriptUrls } from "./commands/script-urls.js";
export {
  type ApiConfig,
  type ConfigFile,
  configFilePath,
  DEFAULT_API_URL,
  DEFAULT_ROUTER_URL,
  readConfigFile,
  resolveApiConfig,
  saveConfigFile,
} from "./config.js";
export { CliError, EXIT, type ExitCode, exitCodeForStatus } from "./errors.js";
export { EXAMPLES } from "./examples.js";
export type { Io } from "./io.js";
export { parseBlock, readSse, type SseEvent } from "./sse.js";
