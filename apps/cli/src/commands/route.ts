import type { Command } from "../command.js";
import { EXIT, usage } from "../errors.js";
import { json, table } from "../format.js";

interface RouteExplain {
  location: { source: string; label: string | null; point: { lat: number; lon: number } | null } & Record<
    string,
    unknown
  >;
  winner: { nodeId?: string; id?: string; pop: string; httpAddress?: string } | null;
  summary: string;
  candidates: Array<Record<string, unknown>>;
}

export const routeCommand: Command = {
  name: "route",
  summary: "Explain which node would serve a client, and why",
  usage: "route --ip <ip> | --lat <deg> --lon <deg>",
  positionals: [],
  options: {
    ip: { type: "string" },
    lat: { type: "string" },
    lon: { type: "string" },
  },
  async run(ctx) {
    const { ip, lat, lon } = ctx.values as { ip?: string; lat?: string; lon?: string };
    if ((ip === undefined) === (lat === undefined && lon === undefined)) {
      throw usage("route needs --ip <ip>, or --lat and --lon");
    }
    const answer = await ctx.api().json<RouteExplain>("GET", "/v1/route", { query: { ip, lat, lon } });
    if (ctx.json) {
      ctx.io.out(json(answer));
      return EXIT.OK;
    }
    const point = answer.location.point;
    ctx.io.out(
      `client ${ip ?? `${lat},${lon}`}: ${point ? `${point.lat.toFixed(2)},${point.lon.toFixed(2)}` : "unknown location"}` +
        ` (${answer.location.source}${answer.location.label ? `, ${answer.location.label}` : ""})\n`,
    );
    ctx.io.out(`${answer.summary}\n`);
    if (answer.candidates.length > 0) {
      ctx.io.out("\n");
      const columns = Object.keys(answer.candidates[0] ?? {}).filter((k) => {
        const v = answer.candidates[0]?.[k];
        return typeof v !== "object" || v === null;
      });
      ctx.io.out(
        table(
          columns.map((c) => c.toUpperCase()),
          answer.candidates.map((c) => columns.map((k) => format(c[k]))),
        ),
      );
    }
    return EXIT.OK;
  },
};

function format(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}
