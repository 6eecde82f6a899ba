import type { Command } from "../command.js";
import { EXIT } from "../errors.js";
import { counts, json, ms, parseDuration, percent, table } from "../format.js";

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

interface ScriptMetrics {
  script: string;
  requests: number;
  errors: number;
  latencyMs: Quantiles;
  cpuMs: Quantiles;
  cpuMsTotal: number;
  statusClasses: Record<string, number>;
  errorsByCode: Record<string, number>;
  versions: Array<{ version: number; requests: number; errors: number; latencyMs: Quantiles }>;
  nodes: Array<{ nodeId: string; pop: string; requests: number; errors: number; latencyMs: Quantiles }>;
  series: Array<{ time: string; requests: number; errors: number; latencyMs: Quantiles }>;
}

interface MetricsView {
  since: string;
  until: string;
  scripts: ScriptMetrics[];
}

export const metricsCommand: Command = {
  name: "metrics",
  summary: "A script's requests, errors and latency percentiles, per version, node and minute",
  usage: "metrics <name> [--since 1h] [--pop <pop>]",
  positionals: ["name"],
  options: {
    since: { type: "string" },
    pop: { type: "string" },
  },
  async run(ctx) {
    const name = ctx.positionals[0] as string;
    const since = (ctx.values.since as string | undefined) ?? "1h";
    const from = new Date(Date.now() - parseDuration(since, "--since")).toISOString();
    const view = await ctx.api().json<MetricsView>("GET", "/v1/metrics", {
      query: { script: name, since: from, pop: ctx.values.pop as string | undefined },
    });
    const script = view.scripts[0];
    if (ctx.json) {
      ctx.io.out(
        json(script ?? { script: name, requests: 0, errors: 0, since: view.since, until: view.until }),
      );
      return EXIT.OK;
    }
    const where = ctx.values.pop ? `PoP ${ctx.values.pop}` : "all PoPs";
    if (!script) {
      ctx.io.out(`${name}: no requests since ${view.since} (${where})\n`);
      return EXIT.OK;
    }
    const q = (x: Quantiles) => `p50 ${ms(x.p50)}  p90 ${ms(x.p90)}  p99 ${ms(x.p99)}`;
    ctx.io.out(
      [
        `${name}: ${script.requests} requests, ${script.errors} errors (${percent(script.errors, script.requests)}) since ${view.since} (${where})`,
        `latency ms   ${q(script.latencyMs)}`,
        `cpu ms       ${q(script.cpuMs)}  total ${ms(script.cpuMsTotal)}`,
        `status       ${counts(script.statusClasses)}`,
        `errors       ${counts(script.errorsByCode)}`,
        "",
      ].join("\n"),
    );
    ctx.io.out(
      table(
        ["VERSION", "REQUESTS", "ERRORS", "P50 MS", "P99 MS"],
        script.versions.map((v) => [
          `v${v.version}`,
          v.requests,
          v.errors,
          ms(v.latencyMs.p50),
          ms(v.latencyMs.p99),
        ]),
      ),
    );
    ctx.io.out("\n");
    ctx.io.out(
      table(
        ["NODE", "POP", "REQUESTS", "ERRORS", "P50 MS", "P99 MS"],
        script.nodes.map((n) => [
          n.nodeId,
          n.pop,
          n.requests,
          n.errors,
          ms(n.latencyMs.p50),
          ms(n.latencyMs.p99),
        ]),
      ),
    );
    ctx.io.out("\n");
    ctx.io.out(
      table(
        ["MINUTE", "REQUESTS", "ERRORS", "P50 MS", "P99 MS"],
        script.series.map((p) => [
          p.time.slice(11, 16),
          p.requests,
          p.errors,
          ms(p.latencyMs.p50),
          ms(p.latencyMs.p99),
        ]),
      ),
    );
    return EXIT.OK;
  },
};
