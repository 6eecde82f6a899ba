import { ApiClient } from "../api-client.js";
import type { Command } from "../command.js";
import { type ApiConfig, configFilePath, resolveApiConfig, saveConfigFile } from "../config.js";
import { EXIT, usage } from "../errors.js";
import { json } from "../format.js";
import type { Io } from "../io.js";

/** Checks the token against the API: any `/v1` read needs it (401: exit 5; unreachable: exit 6). */
async function checkAccess(api: ApiClient): Promise<{ scripts: number }> {
  const { scripts } = await api.json<{ scripts: unknown[] }>("GET", "/v1/scripts");
  return { scripts: scripts.length };
}

function scriptCount(n: number): string {
  return n === 1 ? "1 script" : `${n} scripts`;
}

/** "dev-…(15 characters)": enough to tell tokens apart, not enough to use one. */
export function maskToken(token: string): string {
  return `${token.slice(0, Math.min(4, Math.floor(token.length / 4)))}…(${token.length} characters)`;
}

async function tokenFromInput(io: Io): Promise<string> {
  if (!io.readLine) throw usage("login needs a token: --token <token>, EDGE_API_TOKEN, or on standard input");
  const line = (await io.readLine("API token: ")).trim();
  if (line === "") throw usage("no token given");
  return line;
}

export const loginCommand: Command = {
  name: "login",
  summary: "Check an API URL and token, and save them in the config file (mode 0600)",
  usage: "login [--api-url <url>] [--token <token>]",
  help: [
    "The token comes from --token, else EDGE_API_TOKEN, else standard input (a prompt on a terminal).",
    "It is checked against the API first; nothing is saved if the API refuses it (exit 5) or cannot be",
    "reached (exit 6). The file is $EDGECTL_CONFIG, else ~/.config/edgectl/config.json, written with",
    "mode 0600. EDGE_API_URL and EDGE_API_TOKEN, when set, still win over the file.",
  ],
  positionals: [],
  options: {},
  async run(ctx) {
    const { io, values } = ctx;
    const flagToken = values.token as string | undefined;
    const token = flagToken ?? io.env.EDGE_API_TOKEN ?? (await tokenFromInput(io));
    const config = resolveApiConfig({ apiUrl: values["api-url"] as string | undefined, token }, io.env, {
      fileMayBeMissing: true,
    });
    const access = await checkAccess(new ApiClient(config));
    const path = configFilePath(io.env);
    saveConfigFile(path, { apiUrl: config.apiUrl, token: config.token });
    if (ctx.json) {
      io.out(json({ apiUrl: config.apiUrl, configFile: path, scripts: access.scripts }));
      return EXIT.OK;
    }
    io.out(`logged in to ${config.apiUrl} (${scriptCount(access.scripts)}); saved in ${path}\n`);
    if (io.env.EDGE_API_URL || io.env.EDGE_API_TOKEN)
      io.err("note: EDGE_API_URL / EDGE_API_TOKEN are set in this shell and take precedence over the file\n");
    return EXIT.OK;
  },
};

export const whoamiCommand: Command = {
  name: "whoami",
  summary: "Show which control plane and token edgectl uses, where each comes from, and check them",
  usage: "whoami",
  help: ["Exit 0 when the API accepts the token, 5 when it refuses it, 6 when it cannot be reached."],
  positionals: [],
  options: {},
  async run(ctx) {
    const { io } = ctx;
    const api = ctx.api();
    const config: Pick<ApiConfig, "apiUrl" | "routerUrl" | "source"> = {
      apiUrl: api.baseUrl,
      routerUrl: api.routerUrl,
      source: api.source,
    };
    const access = await checkAccess(api).then(
      (ok) => ({ ok: true as const, ...ok }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const token = maskToken(api.token);
    if (ctx.json) {
      io.out(
        json({
          apiUrl: config.apiUrl,
          apiUrlFrom: config.source.apiUrl,
          token,
          tokenFrom: config.source.token,
          routerUrl: config.routerUrl,
          configFile: configFilePath(io.env),
          accepted: access.ok,
        }),
      );
    } else {
      io.out(`api     ${config.apiUrl}  (from ${config.source.apiUrl})\n`);
      io.out(`token   ${token}  (from ${config.source.token})\n`);
      io.out(`router  ${config.routerUrl}\n`);
      if (access.ok) io.out(`access  admin: the API accepts this token (${scriptCount(access.scripts)})\n`);
    }
    if (!access.ok) throw access.error;
    return EXIT.OK;
  },
};
