import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CliError, EXIT, usage } from "./errors.js";

/** Where the CLI finds the control plane. */
export interface ApiConfig {
  apiUrl: string;
  token: string;
  /** The router's entry (`EDGE_ROUTER_URL`, the file's `routerUrl`, else the local cluster's): deploy prints script URLs on it. */
  routerUrl: string;
  /** Where each value came from, for `--help` and error messages. */
  source: { apiUrl: string; token: string };
}

const fileSchema = z
  .object({
    apiUrl: z.url().optional(),
    token: z.string().min(1).optional(),
    routerUrl: z.url().optional(),
  })
  .strict();

/** What the config file holds (`edgectl login` writes it). */
export type ConfigFile = z.infer<typeof fileSchema>;

export const DEFAULT_API_URL = "http://127.0.0.1:8080";
export const DEFAULT_ROUTER_URL = "http://localhost:8000";

/** `$EDGECTL_CONFIG`, else `$XDG_CONFIG_HOME/edgectl/config.json`, else `~/.config/edgectl/config.json`. */
export function configFilePath(env: Readonly<Record<string, string | undefined>>): string {
  if (env.EDGECTL_CONFIG) return env.EDGECTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "edgectl", "config.json");
}

/**
 * Resolves the API URL and token once: `--api-url`/`--token` flags first, then
 * `EDGE_API_URL`/`EDGE_API_TOKEN`, then the config file; the URL defaults to
 * the local cluster's. A missing token or a bad file is a usage error (exit 2).
 */
export function resolveApiConfig(
  flags: { apiUrl?: string | undefined; token?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  /** `login`: a config file named by EDGECTL_CONFIG may not exist yet (it is about to be written). */
  options: { fileMayBeMissing?: boolean } = {},
): ApiConfig {
  const path = configFilePath(env);
  const file = readConfigFile(path, env.EDGECTL_CONFIG !== undefined && options.fileMayBeMissing !== true);
  const pick = (flag: string | undefined, envName: string, fromFile: string | undefined) => {
    if (flag) return { value: flag, source: "command line" };
    const fromEnv = env[envName];
    if (fromEnv) return { value: fromEnv, source: envName };
    if (fromFile) return { value: fromFile, source: path };
    return null;
  };
  const url = pick(flags.apiUrl, "EDGE_API_URL", file.apiUrl) ?? {
    value: DEFAULT_API_URL,
    source: "default",
  };
  const token = pick(flags.token, "EDGE_API_TOKEN", file.token);
  if (token === null) {
    throw usage(`no API token: set EDGE_API_TOKEN, pass --token, or put "token" in ${path}`);
  }
  let apiUrl: URL;
  try {
    apiUrl = new URL(url.value);
  } catch {
    throw usage(`the API URL from ${url.source} is not a URL: ${url.value}`);
  }
  if (apiUrl.protocol !== "http:" && apiUrl.protocol !== "https:") {
    throw usage(`the API URL from ${url.source} must be http:// or https://`);
  }
  const routerUrl = pick(undefined, "EDGE_ROUTER_URL", file.routerUrl) ?? {
    value: DEFAULT_ROUTER_URL,
    source: "default",
  };
  if (!URL.canParse(routerUrl.value)) {
    throw usage(`the router URL from ${routerUrl.source} is not a URL: ${routerUrl.value}`);
  }
  return {
    apiUrl: apiUrl.toString().replace(/\/+$/, ""),
    token: token.value,
    routerUrl: routerUrl.value.replace(/\/+$/, ""),
    source: { apiUrl: url.source, token: token.source },
  };
}

/**
 * Merges `values` into the config file at `path`, creating it (and its folder,
 * mode 0700) if needed. The file holds a token: it is written to a temporary
 * file with mode 0600 and renamed over the old one, so it is never readable by others.
 */
export function saveConfigFile(path: string, values: ConfigFile): ConfigFile {
  const merged = { ...readConfigFile(path, false), ...values };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return merged;
}

/** The config file's contents; `{}` when the default file does not exist. */
export function readConfigFile(path: string, explicit: boolean): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    // The default location is optional; a file named by EDGECTL_CONFIG is not.
    if (!explicit && (error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError("EDGE_CLI_CONFIG", `cannot read ${path}: ${(error as Error).message}`, EXIT.USAGE);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError("EDGE_CLI_CONFIG", `${path} is not valid JSON`, EXIT.USAGE);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`);
    throw new CliError("EDGE_CLI_CONFIG", `${path}: ${problems.join("; ")}`, EXIT.USAGE);
  }
  return parsed.data;
}
