import type { Command } from "../command.js";
import { EXIT } from "../errors.js";
import { json } from "../format.js";

interface ScheduledAnswer {
  script: string;
  cron: string;
  scheduledTime: number;
  outcome: string;
  nodeId: string | null;
  noRetry: boolean;
  error: { code: string; message: string } | null;
}

/** `edgectl trigger <script> [--cron …]`: runs the script's scheduled() handler once now. */
export const triggerCommand: Command = {
  name: "trigger",
  summary: "Run a script's scheduled() handler once now (a Cron Trigger event)",
  usage: "trigger <name> [--cron '*/5 * * * *']",
  positionals: ["name"],
  options: {
    cron: { type: "string" },
  },
  async run(ctx) {
    const { io, values } = ctx;
    const name = ctx.positionals[0] as string;
    const cron = values.cron as string | undefined;
    const answer = await ctx.api().json<ScheduledAnswer>("POST", `/v1/scripts/${name}/scheduled`, {
      body: cron === undefined ? {} : { cron },
    });
    if (ctx.json) io.out(json(answer));
    else {
      const where = answer.nodeId === null ? "" : ` on ${answer.nodeId}`;
      const why = answer.error === null ? "" : `: ${answer.error.code} ${answer.error.message}`;
      io.out(`${name}: scheduled "${answer.cron}" ${answer.outcome}${where}${why}\n`);
    }
    return answer.outcome === "ok" ? EXIT.OK : EXIT.FAILURE;
  },
};
