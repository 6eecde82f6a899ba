import type { Command } from "../command.js";
import { EXIT } from "../errors.js";
import { json, parseDuration } from "../format.js";
import { FILTER_HELP, FILTER_OPTIONS, filterQuery } from "./filters.js";
import { type Trace, traceLines } from "./trace-line.js";

interface LogsAnswer {
  logs: Trace[];
  truncated: boolean;
  nodes: { answered: string[]; missing: string[] };
}

export const logsCommand: Command = {
  name: "logs",
  summary: "Recent request summaries and errors the PoPs kept (no tail needed)",
  usage: "logs <name> [--since 15m] [--limit 100] [--pop P] [--status S] [--method M] [--search T]",
  help: FILTER_HELP,
  positionals: ["name"],
  options: {
    ...FILTER_OPTIONS,
    since: { type: "string" },
    limit: { type: "string" },
  },
  async run(ctx) {
    const name = ctx.positionals[0] as string;
    const since = (ctx.values.since as string | undefined) ?? "15m";
    const from = new Date(Date.now() - parseDuration(since, "--since")).toISOString();
    const answer = await ctx.api().json<LogsAnswer>("GET", `/v1/scripts/${name}/logs`, {
      query: { ...filterQuery(ctx.values), since: from, limit: ctx.values.limit as string | undefined },
    });
    if (ctx.json) {
      ctx.io.out(json(answer));
      return EXIT.OK;
    }
    for (const trace of answer.logs) ctx.io.out(traceLines(trace));
    if (answer.logs.length === 0) ctx.io.out(`no requests of ${name} since ${since} ago\n`);
    if (answer.truncated) ctx.io.err("(older entries left out: raise --limit or narrow --since)\n");
    if (answer.nodes.missing.length > 0) {
      ctx.io.err(`(no answer from ${answer.nodes.missing.join(", ")}: their entries are missing)\n`);
    }
    return EXIT.OK;
  },
};
