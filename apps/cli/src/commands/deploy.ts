import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { bundleWorker, type WorkerBundle } from "../bundle.js";
import type { Command } from "../command.js";
import { CliError, EXIT, usage } from "../errors.js";
import { json, parseDuration } from "../format.js";
import { followRollout, type RolloutState } from "./rollout-progress.js";
import { printScriptUrls, scriptUrls } from "./script-urls.js";

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const deployCommand: Command = {
  name: "deploy",
  summary: "Deploy a script as a new version and follow its rollout",
  usage:
    "deploy <file> --name <name> [--var K=V]... [--secret K]... [--cpu-ms N] [--memory-mb N] [--wall-ms N] [--no-bundle]",
  help: [
    "--var K=V        a variable the script reads as env.K (repeatable)",
    "--secret K       a secret the script reads as env.K, its value read from the environment",
    "                 variable K (repeatable); stored encrypted, never shown again",
    "--cpu-ms, --memory-mb, --wall-ms   limits of this version",
    "--no-wait        do not wait for the PoPs to run it",
    "--timeout 60s    how long to wait for every connected PoP (exit 7 when it is not reached)",
    "The file and what it imports (node_modules too) are bundled with esbuild into one ES module",
    "with a source map, so errors name your own files; .wasm, .txt/.html/.sql and .bin imports",
    "go up as Wasm, text and data modules.",
    "--no-bundle      upload the file as it is (a .ts/.mts file is then compiled by the control plane)",
    "Vars and secrets not given are kept from the active version.",
  ],
  positionals: ["file"],
  options: {
    name: { type: "string", short: "n" },
    var: { type: "string", multiple: true },
    secret: { type: "string", multiple: true },
    "cpu-ms": { type: "string" },
    "memory-mb": { type: "string" },
    "wall-ms": { type: "string" },
    "no-wait": { type: "boolean" },
    "no-bundle": { type: "boolean" },
    timeout: { type: "string" },
  },
  async run(ctx) {
    const { io, values } = ctx;
    const file = ctx.positionals[0] as string;
    const name = values.name as string | undefined;
    if (!name) throw usage("deploy needs --name <name>");
    if (!NAME.test(name)) throw usage(`--name ${JSON.stringify(name)}: use 1-63 of a-z, 0-9 and '-'`);
    let source: string;
    const path = resolve(io.cwd, file);
    try {
      source = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError("EDGE_CLI_FILE", `cannot read ${file}: ${(error as Error).message}`, EXIT.USAGE);
    }
    const bundle: WorkerBundle | null = values["no-bundle"] ? null : await bundleWorker(path);
    const vars: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const pair of (values.var as string[] | undefined) ?? []) {
      const eq = pair.indexOf("=");
      const key = eq === -1 ? "" : pair.slice(0, eq);
      if (!VAR_NAME.test(key)) throw usage(`--var ${JSON.stringify(pair)}: expected NAME=value`);
      vars[key] = pair.slice(eq + 1);
    }
    for (const key of (values.secret as string[] | undefined) ?? []) {
      if (!VAR_NAME.test(key)) throw usage(`--secret ${JSON.stringify(key)}: expected a variable name`);
      const value = io.env[key];
      if (value === undefined)
        throw usage(`--secret ${key}: set the environment variable ${key} to its value`);
      secrets[key] = value;
    }
    const limits: Record<string, number> = {};
    for (const [flag, key] of [
      ["cpu-ms", "cpuMs"],
      ["memory-mb", "memoryMb"],
      ["wall-ms", "wallMs"],
    ] as const) {
      const raw = values[flag] as string | undefined;
      if (raw === undefined) continue;
      if (!/^[1-9]\d{0,6}$/.test(raw)) throw usage(`--${flag} expects a positive whole number`);
      limits[key] = Number(raw);
    }
    const timeoutMs = parseDuration((values.timeout as string | undefined) ?? "60s", "--timeout");
    const started = Date.now();
    const api = ctx.api();
    const deployed = await api.json<{ name: string; version: number; sha256: string; createdAt: string }>(
      "PUT",
      `/v1/scripts/${name}`,
      {
        body: {
          ...(bundle === null
            ? { source, ...(/\.m?ts$/i.test(file) ? { language: "ts" } : {}) }
            : {
                main: bundle.main,
                modules: bundle.modules.map((m) => ({
                  name: m.name,
                  type: m.type,
                  content: Buffer.from(m.content).toString("base64"),
                })),
              }),
          ...(Object.keys(vars).length > 0 ? { vars } : {}),
          ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
          ...(Object.keys(limits).length > 0 ? { limits } : {}),
        },
      },
    );
    if (!ctx.json)
      io.out(`deployed ${deployed.name} v${deployed.version} (sha256 ${deployed.sha256.slice(0, 12)})\n`);
    if (values["no-wait"]) {
      if (ctx.json) io.out(json(deployed));
      return EXIT.OK;
    }
    const state = await followRollout(api, io, {
      name,
      version: deployed.version,
      timeoutMs,
      json: ctx.json,
      since: started,
    });
    const urls = await scriptUrls(api, name);
    if (ctx.json) io.out(json({ ...deployed, rollout: rolloutJson(state), urls }));
    else printScriptUrls(io, urls);
    return rolloutExit(io, name, state);
  },
};

export function rolloutJson(state: RolloutState) {
  return {
    pops: state.pops.length,
    popsOnVersion: state.popsOnVersion.length,
    complete: state.complete,
    waitingFor: state.pops.filter((p) => !state.popsOnVersion.includes(p)),
    rejected: state.rejected,
  };
}

/** Explains an incomplete rollout on stderr and picks the exit code. */
export function rolloutExit(io: { err(text: string): void }, name: string, state: RolloutState): number {
  if (state.complete) return EXIT.OK;
  for (const r of state.rejected)
    io.err(`${r.nodeId} (${r.pop}) rejected ${name} v${state.version}: ${r.error}\n`);
  const waiting = state.pops.filter((p) => !state.popsOnVersion.includes(p));
  io.err(`not every PoP runs ${name} v${state.version} yet: waiting for ${waiting.join(", ")}\n`);
  return EXIT.ROLLOUT_INCOMPLETE;
}
