import type { ApiConfig } from "./config.js";
import { CliError, EXIT, exitCodeForStatus } from "./errors.js";

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (application/octet-stream) instead of a JSON body. */
  raw?: Uint8Array;
  headers?: Record<string, string>;
  query?: Record<string, string | string[] | undefined>;
  signal?: AbortSignal;
}

/**
 * The control plane's HTTP API. API errors (`{ error: { code, message } }`)
 * become `CliError`s carrying the API's code and the matching exit code;
 * connection failures exit with UNREACHABLE.
 */
export class ApiClient {
  constructor(private readonly config: ApiConfig) {}

  get baseUrl(): string {
    return this.config.apiUrl;
  }

  /** The router's entry URL, where deploy shows a script is reachable. */
  get routerUrl(): string {
    return this.config.routerUrl;
  }

  /** The admin token (whoami shows it masked). */
  get token(): string {
    return this.config.token;
  }

  /** Where the URL and token came from (flag, variable, config file, default). */
  get source(): ApiConfig["source"] {
    return this.config.source;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options, "application/json");
    const text = await res.text();
    return (text === "" ? null : JSON.parse(text)) as T;
  }

  /** Any response body as bytes (KV values), status checked. */
  async bytes(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(method, path, options, "*/*");
  }

  /** For streams (the tail): the response once its headers are in, status checked. */
  async stream(path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send("GET", path, options, "text/event-stream");
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    accept: string,
  ): Promise<Response> {
    const url = new URL(`${this.config.apiUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v);
    }
    const headers: Record<string, string> = {
      ...options.headers,
      authorization: `Bearer ${this.config.token}`,
      accept,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.raw !== undefined) headers["content-type"] = "application/octet-stream";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.raw ?? (options.body === undefined ? null : JSON.stringify(options.body)),
        signal: options.signal ?? null,
      });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        "EDGE_CLI_UNREACHABLE",
        `cannot reach the control plane at ${this.config.apiUrl} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
        EXIT.UNREACHABLE,
      );
    }
    if (res.ok) return res;
    throw await apiError(res);
  }
}

async function apiError(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => "");
  let code = `HTTP_${res.status}`;
  let message = text.slice(0, 300) || res.statusText;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not our JSON error (a proxy's page, say): keep the raw text.
  }
  return new CliError(code, message, exitCodeForStatus(res.status), res.status);
}
