import type { Command } from "../command.js";
import { CliError, EXIT, usage } from "../errors.js";
import { readSse } from "../sse.js";
import { FILTER_HELP, FILTER_OPTIONS, filterQuery } from "./filters.js";
import { type Trace, traceLines } from "./trace-line.js";

export const tailCommand: Command = {
  name: "tail",
  summary: "Stream a script's requests, console lines and exceptions live",
  usage: "tail <name> [--pop P] [--status S] [--method M] [--search T] [--sample R] [--count N]",
  help: [
    ...FILTER_HELP,
    "--sample 0.1     ship this share of the matching requests (filters apply first, at the edge)",
    "--count N        stop after N requests (exit 0)",
    "--json           one JSON object per line: {type: request|dropped, ...}",
  ],
  positionals: ["name"],
  options: {
    ...FILTER_OPTIONS,
    sample: { type: "string" },
    count: { type: "string" },
  },
  async run(ctx) {
    const { io, values } = ctx;
    const name = ctx.positionals[0] as string;
    const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
    if (!(count > 0) || !Number.isInteger(count === Number.POSITIVE_INFINITY ? 1 : count)) {
      throw usage("--count expects a positive whole number");
    }
    const controller = new AbortController();
    void io.interrupted.then(() => controller.abort());
    let seen = 0;
    try {
      const res = await ctx.api().stream(`/v1/scripts/${name}/tail`, {
        query: { ...filterQuery(values), sample: values.sample as string | undefined },
        signal: controller.signal,
      });
      if (!res.body) throw new CliError("EDGE_CLI_STREAM", "the tail answered without a body", EXIT.FAILURE);
      for await (const event of readSse(res.body)) {
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === "open") {
          io.err(`tailing ${name} (session ${String(data.session)}); Ctrl-C to stop\n`);
        } else if (event.event === "request") {
          io.out(
            ctx.json
              ? `${JSON.stringify({ type: "request", ...data })}\n`
              : traceLines(data as unknown as Trace),
          );
          if (++seen >= count) {
            controller.abort();
            return EXIT.OK;
          }
        } else if (event.event === "dropped") {
          const line = `${String(data.dropped)} requests dropped: the tail fell behind (narrow it with filters or --sample)`;
          if (ctx.json) io.out(`${JSON.stringify({ type: "dropped", dropped: data.dropped })}\n`);
          else io.err(`[${line}]\n`);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return EXIT.OK;
      throw error;
    }
    if (controller.signal.aborted) return EXIT.OK;
    throw new CliError("EDGE_CLI_STREAM_ENDED", "the control plane ended the tail stream", EXIT.UNREACHABLE);
  },
};
