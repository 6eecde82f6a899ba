import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "../command.js";
import { CliError, EXIT, usage } from "../errors.js";
import { json } from "../format.js";
import { starterFiles } from "./init-templates.js";

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const initCommand: Command = {
  name: "init",
  summary: "Create a starter script (JavaScript or TypeScript) with a test, in a new folder",
  usage: "init <name> [--ts]",
  help: [
    "Writes <name>/src/index.js (--ts: index.ts), <name>/test/index.test.js, package.json (npm run",
    "dev | test | deploy), README.md. The name is also the script's name: 1-63 of a-z, 0-9 and '-'.",
    "An existing folder that is not empty is left alone (exit 2).",
  ],
  positionals: ["name"],
  options: { ts: { type: "boolean" } },
  async run(ctx) {
    const { io, values } = ctx;
    const name = ctx.positionals[0] as string;
    if (!NAME.test(name)) throw usage(`${JSON.stringify(name)}: use 1-63 of a-z, 0-9 and '-'`);
    const dir = resolve(io.cwd, name);
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new CliError("EDGE_CLI_EXISTS", `${name}/ already exists and is not empty`, EXIT.USAGE);
    }
    const files = starterFiles(name, values.ts === true);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text, { flag: "wx" });
    }
    if (ctx.json) {
      io.out(json({ name, dir, files: Object.keys(files) }));
      return EXIT.OK;
    }
    io.out(
      [
        `created ${name}/: ${Object.keys(files).join(", ")}`,
        "next:",
        `  cd ${name}`,
        "  npm test          # its tests (node --test)",
        `  npm run dev       # edgectl dev: http://${name}.localhost:8787/, reloads on save`,
        "  npm run deploy    # edgectl deploy: a new version on every PoP",
        "",
      ].join("\n"),
    );
    return EXIT.OK;
  },
};
