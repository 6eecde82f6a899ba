import type { ParseArgsConfig } from "node:util";
import type { ApiClient } from "./api-client.js";
import type { Io } from "./io.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What a command gets once the command line is parsed. */
export interface CommandContext {
  io: Io;
  /** The API client; resolving its configuration is deferred until a command needs it. */
  api(): ApiClient;
  json: boolean;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line after `edgectl`, e.g. `deploy <file> --name <name> [--var K=V]...`. */
  usage: string;
  /** Extra help lines (options, examples). */
  help?: string[];
  options: Options;
  /** Positional arguments the command needs (exactly, unless `variadic`). */
  positionals: string[];
  /** Takes at least `positionals.length` positionals, more allowed (commands with subcommands). */
  variadic?: boolean;
  run(ctx: CommandContext): Promise<number>;
}
