import type { Command } from "../command.js";
import { EXIT } from "../errors.js";
import { ago, json, table } from "../format.js";

interface NodeView {
  id: string;
  pop: string;
  httpAddress: string;
  status: string;
  lastSeen: string;
  configVersion: number;
  scripts: Record<string, number>;
  inFlight: number;
  lastNack: { script: string; version: number; error: string } | null;
}

export const nodesCommand: Command = {
  name: "nodes",
  summary: "List the edge nodes, their status and what they run",
  usage: "nodes",
  positionals: [],
  options: {},
  async run(ctx) {
    const { nodes } = await ctx.api().json<{ nodes: NodeView[] }>("GET", "/v1/nodes");
    if (ctx.json) {
      ctx.io.out(json(nodes));
      return EXIT.OK;
    }
    if (nodes.length === 0) {
      ctx.io.out("no edge nodes\n");
      return EXIT.OK;
    }
    ctx.io.out(
      table(
        ["NODE", "POP", "STATUS", "CONFIG", "SCRIPTS", "IN-FLIGHT", "LAST SEEN", "ADDRESS"],
        nodes.map((n) => [
          n.id,
          n.pop,
          n.status,
          `r${n.configVersion}`,
          Object.keys(n.scripts).length,
          n.inFlight,
          ago(n.lastSeen),
          n.httpAddress,
        ]),
      ),
    );
    for (const n of nodes) {
      if (n.lastNack)
        ctx.io.out(`${n.id} rejected ${n.lastNack.script} v${n.lastNack.version}: ${n.lastNack.error}\n`);
    }
    return EXIT.OK;
  },
};
