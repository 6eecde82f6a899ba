import type { Command } from "../command.js";
import { EXIT, usage } from "../errors.js";
import { json, parseDuration } from "../format.js";
import { rolloutExit, rolloutJson } from "./deploy.js";
import { followRollout } from "./rollout-progress.js";

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "Make an earlier version active again and follow its rollout",
  usage: "rollback <name> --to <version> [--no-wait] [--timeout 60s]",
  positionals: ["name"],
  options: {
    to: { type: "string" },
    "no-wait": { type: "boolean" },
    timeout: { type: "string" },
  },
  async run(ctx) {
    const { io, values } = ctx;
    const name = ctx.positionals[0] as string;
    const to = values.to as string | undefined;
    if (to === undefined || !/^[1-9]\d{0,15}$/.test(to)) throw usage("rollback needs --to <version>");
    const timeoutMs = parseDuration((values.timeout as string | undefined) ?? "60s", "--timeout");
    const started = Date.now();
    const api = ctx.api();
    const script = await api.json<{ name: string; version: number }>("POST", `/v1/scripts/${name}/rollback`, {
      body: { version: Number(to) },
    });
    if (!ctx.json) io.out(`${name}: v${script.version} is active\n`);
    if (values["no-wait"]) {
      if (ctx.json) io.out(json(script));
      return EXIT.OK;
    }
    const state = await followRollout(api, io, {
      name,
      version: script.version,
      timeoutMs,
      json: ctx.json,
      since: started,
    });
    if (ctx.json) io.out(json({ ...script, rollout: rolloutJson(state) }));
    return rolloutExit(io, name, state);
  },
};
