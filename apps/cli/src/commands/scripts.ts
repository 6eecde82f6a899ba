import type { Command } from "../command.js";
import { EXIT } from "../errors.js";
import { ago, json, table } from "../format.js";

interface Summary {
  name: string;
  activeVersion: number;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

interface Version {
  version: number;
  sha256: string;
  vars: Record<string, string>;
  /** Names only. */
  secrets?: string[];
  limits: { cpuMs: number; memoryMb: number; wallMs: number };
  createdAt: string;
  active: boolean;
}

export const listCommand: Command = {
  name: "list",
  summary: "List every script with its active and latest version",
  usage: "list",
  positionals: [],
  options: {},
  async run(ctx) {
    // The API answers in pages of up to 1000 by name; follow the cursor to the end.
    const scripts: Summary[] = [];
    let cursor: string | null = null;
    do {
      const path: string =
        cursor === null ? "/v1/scripts" : `/v1/scripts?cursor=${encodeURIComponent(cursor)}`;
      const page: { scripts: Summary[]; cursor?: string | null } = await ctx.api().json("GET", path);
      scripts.push(...page.scripts);
      cursor = page.cursor ?? null;
    } while (cursor !== null);
    if (ctx.json) ctx.io.out(json(scripts));
    else if (scripts.length === 0) ctx.io.out("no scripts\n");
    else
      ctx.io.out(
        table(
          ["NAME", "ACTIVE", "LATEST", "UPDATED"],
          scripts.map((s) => [s.name, `v${s.activeVersion}`, `v${s.latestVersion}`, ago(s.updatedAt)]),
        ),
      );
    return EXIT.OK;
  },
};

export const versionsCommand: Command = {
  name: "versions",
  summary: "List a script's versions, newest first",
  usage: "versions <name>",
  positionals: ["name"],
  options: {},
  async run(ctx) {
    const name = ctx.positionals[0] as string;
    const { versions } = await ctx.api().json<{ versions: Version[] }>("GET", `/v1/scripts/${name}/versions`);
    if (ctx.json) {
      ctx.io.out(json(versions));
      return EXIT.OK;
    }
    ctx.io.out(
      table(
        ["VERSION", "", "CREATED", "SHA256", "LIMITS (cpu/mem/wall)", "VARS", "SECRETS"],
        versions.map((v) => [
          `v${v.version}`,
          v.active ? "active" : "",
          ago(v.createdAt),
          v.sha256.slice(0, 12),
          `${v.limits.cpuMs}ms/${v.limits.memoryMb}MB/${v.limits.wallMs}ms`,
          // Names only: vars can be long, and secrets have no value to show.
          Object.keys(v.vars).sort().join(",") || "-",
          (v.secrets ?? []).join(",") || "-",
        ]),
      ),
    );
    return EXIT.OK;
  },
};

export const deleteCommand: Command = {
  name: "delete",
  summary: "Delete a script everywhere (its PoPs answer 404)",
  usage: "delete <name>",
  positionals: ["name"],
  options: {},
  async run(ctx) {
    const name = ctx.positionals[0] as string;
    await ctx.api().json("DELETE", `/v1/scripts/${name}`);
    ctx.io.out(ctx.json ? json({ name, deleted: true }) : `deleted ${name}\n`);
    return EXIT.OK;
  },
};
