import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, watch } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "../command.js";
import { CliError, EXIT, usage } from "../errors.js";

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `edgectl dev <file>`: one script on one local node, redeployed when the file
 * changes, its console output and errors printed as requests come in. It runs
 * a control plane (in-memory store) and an edge node in this process; the
 * isolates need `--no-node-snapshot`, so the command re-runs itself with that
 * flag when it is missing.
 */
export const devCommand: Command = {
  name: "dev",
  summary: "Run a script locally on one node, reloading it when the file changes",
  usage: "dev <file> [--name dev] [--port 8787] [--var K=V]...",
  help: ["Open http://<name>.localhost:<port>/ (default http://dev.localhost:8787/)."],
  positionals: ["file"],
  options: {
    name: { type: "string", short: "n" },
    port: { type: "string" },
    var: { type: "string", multiple: true },
  },
  async run(ctx) {
    const { io, values } = ctx;
    const file = resolve(io.cwd, ctx.positionals[0] as string);
    const name = (values.name as string | undefined) ?? "dev";
    if (!NAME.test(name)) throw usage(`--name ${JSON.stringify(name)}: use 1-63 of a-z, 0-9 and '-'`);
    const port = Number((values.port as string | undefined) ?? "8787");
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw usage("--port expects a port number");
    const vars: Record<string, string> = {};
    for (const pair of (values.var as string[] | undefined) ?? []) {
      const eq = pair.indexOf("=");
      if (eq < 1) throw usage(`--var ${JSON.stringify(pair)}: expected NAME=value`);
      vars[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    if (!process.execArgv.includes("--no-node-snapshot")) return rerunWithFlag(io.interrupted);

    const read = (): { source: string; sha256: string } => {
      try {
        const source = readFileSync(file, "utf8");
        return { source, sha256: createHash("sha256").update(source).digest("hex") };
      } catch (error) {
        throw new CliError("EDGE_CLI_FILE", `cannot read ${file}: ${(error as Error).message}`, EXIT.USAGE);
      }
    };
    // Loaded only here: the control plane and the isolate host are heavy for the other commands.
    const { runDevServer } = await import("./dev-server.js");
    const server = await runDevServer({ name, port, vars, print: io.out, warn: io.err });
    let current = "";
    const deploy = async () => {
      let next: { source: string; sha256: string };
      try {
        next = read();
      } catch (error) {
        io.err(`${(error as Error).message}\n`);
        return;
      }
      if (next.sha256 === current) return;
      current = next.sha256;
      const result = await server.deploy(next.source, next.sha256);
      if (result.ok) io.out(`ready: v${result.version} on ${server.url}\n`);
      else io.err(`v${result.version} rejected, still serving the previous version: ${result.error}\n`);
    };
    await deploy();
    let timer: NodeJS.Timeout | null = null;
    // Editors save in bursts (truncate, write, rename): wait for the file to settle.
    const watcher = watch(file, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void deploy(), 100);
    });
    io.err(`watching ${file}; Ctrl-C to stop\n`);
    await io.interrupted;
    watcher.close();
    if (timer) clearTimeout(timer);
    await server.close();
    return EXIT.OK;
  },
};

/** Runs this command line again under `node --no-node-snapshot`, passing Ctrl-C on. */
function rerunWithFlag(interrupted: Promise<void>): Promise<number> {
  const main = fileURLToPath(new URL("../main.js", import.meta.url));
  const child = spawn(process.execPath, ["--no-node-snapshot", main, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  void interrupted.then(() => child.kill("SIGINT"));
  return new Promise((resolveExit) => {
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 130 : EXIT.FAILURE)));
  });
}
