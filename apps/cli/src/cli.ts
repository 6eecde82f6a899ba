import { parseArgs } from "node:util";
import { ApiClient } from "./api-client.js";
import type { Command } from "./command.js";
import { completionCommand } from "./commands/completion.js";
import { deployCommand } from "./commands/deploy.js";
import { devCommand } from "./commands/dev.js";
import { initCommand } from "./commands/init.js";
import { kvCommand } from "./commands/kv.js";
import { loginCommand, whoamiCommand } from "./commands/login.js";
import { logsCommand } from "./commands/logs.js";
import { metricsCommand } from "./commands/metrics.js";
import { nodesCommand } from "./commands/nodes.js";
import { rollbackCommand } from "./commands/rollback.js";
import { routeCommand } from "./commands/route.js";
import { deleteCommand, listCommand, versionsCommand } from "./commands/scripts.js";
import { tailCommand } from "./commands/tail.js";
import { triggerCommand } from "./commands/trigger.js";
import { resolveApiConfig } from "./config.js";
import { CliError, EXIT, usage } from "./errors.js";
import { EXAMPLES } from "./examples.js";
import type { Io } from "./io.js";

/** Every command, in the order `edgectl --help` lists them. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  deployCommand,
  listCommand,
  versionsCommand,
  rollbackCommand,
  deleteCommand,
  triggerCommand,
  nodesCommand,
  tailCommand,
  logsCommand,
  metricsCommand,
  routeCommand,
  devCommand,
  loginCommand,
  whoamiCommand,
  completionCommand(() => COMMANDS),
  kvCommand,
];

const GLOBAL_OPTIONS = {
  json: { type: "boolean" },
  "api-url": { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const VERSION = "0.1.0";

/** Runs one command line; resolves with the exit code. Errors are printed here, never thrown. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof CliError) {
      if (argv.includes("--json"))
        io.err(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      else
        io.err(`edgectl: ${error.message}${error.code.startsWith("EDGE_CLI") ? "" : ` (${error.code})`}\n`);
      if (error.exitCode === EXIT.USAGE && error.code === "EDGE_CLI_USAGE")
        io.err("run `edgectl --help` for usage\n");
      return error.exitCode;
    }
    io.err(`edgectl: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.FAILURE;
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(overview());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "--version") {
    io.out(`edgectl ${VERSION}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw usage(`unknown command ${JSON.stringify(name)}`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usage(`${command.name}: ${(error as Error).message}`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) {
    io.out(commandHelp(command));
    return EXIT.OK;
  }
  const count = parsed.positionals.length;
  const expected = command.positionals.length;
  if (command.variadic ? count < expected : count !== expected) {
    throw usage(`usage: edgectl ${command.usage}`);
  }
  let client: ApiClient | null = null;
  return command.run({
    io,
    json: values.json === true,
    positionals: parsed.positionals,
    values,
    api: () => {
      client ??= new ApiClient(
        resolveApiConfig(
          { apiUrl: values["api-url"] as string | undefined, token: values.token as string | undefined },
          io.env,
        ),
      );
      return client;
    },
  });
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "edgectl: operate the edge platform",
    "",
    "usage: edgectl <command> [options]",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "global options:",
    "  --json            machine-readable output on stdout",
    "  --api-url <url>   control plane API (else EDGE_API_URL, the config file, http://127.0.0.1:8080)",
    "  --token <token>   admin token (else EDGE_API_TOKEN, the config file)",
    "  -h, --help        help for a command, with examples: edgectl <command> --help",
    'config file: $EDGECTL_CONFIG or ~/.config/edgectl/config.json: { "apiUrl": "...", "token": "..." }',
    "             (edgectl login writes it, mode 0600); EDGE_ROUTER_URL: the router, for deploy's URLs",
    "exit codes: 0 ok, 1 failure, 2 usage or config, 3 not found, 4 rejected by the API,",
    "            5 unauthorized, 6 API unreachable, 7 rollout incomplete",
    "",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const examples = EXAMPLES[command.name] ?? [];
  return [
    `usage: edgectl ${command.usage}`,
    "",
    command.summary,
    "",
    ...(command.help ?? []),
    ...(examples.length ? ["", "examples:", ...examples.map((e) => `  ${e}`)] : []),
    "",
  ].join("\n");
}
