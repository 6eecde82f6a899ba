import type { HostOp, HostOpContext } from "./op.js";

/**
 * Host side of `runtime/url/`: URL parsing by Node's URL (ada, a WHATWG URL
 * Standard parser in C++), far faster than a parser in the isolate. The
 * isolate gets back the URL's components as plain strings (see COMPONENTS).
 */

/** The order of the components handed to the isolate (runtime/url/url.ts reads them by index). */
export const URL_COMPONENTS = [
  "href",
  "origin",
  "protocol",
  "username",
  "password",
  "host",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
] as const;

/** Longest URL or setter value parsed (Chromium's limit is 2 MiB too). */
export const MAX_URL_LENGTH = 2 * 1024 * 1024;

const SETTERS = new Set<string>(URL_COMPONENTS.filter((name) => name !== "origin"));

/** ada parses at hundreds of MB/s; this is the call's fixed cost plus a generous per-character part. */
function chargeParse(ctx: HostOpContext, chars: number): void {
  ctx.charge(0.002 + chars * 0.00002);
}

function stringArg(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string`);
  if (value.length > MAX_URL_LENGTH)
    throw new TypeError(`${what} is longer than ${MAX_URL_LENGTH} characters`);
  return value;
}

function components(url: URL): string[] {
  return URL_COMPONENTS.map((name) => url[name]);
}

/** urlParse(input, base?): the components, or null when the URL Standard's parser fails. */
const urlParse: HostOp = (ctx, a, b) => {
  const input = stringArg(a, "url");
  const base = b === undefined ? undefined : stringArg(b, "base");
  chargeParse(ctx, input.length + (base?.length ?? 0));
  const url = URL.parse(input, base);
  return url === null ? null : components(url);
};

/** urlSet(href, setter, value): the components after running `setter` on the parsed `href`. */
const urlSet: HostOp = (ctx, a, b, c) => {
  const href = stringArg(a, "href");
  if (typeof b !== "string" || !SETTERS.has(b)) throw new TypeError("Unknown URL setter");
  const value = stringArg(c, "value");
  chargeParse(ctx, href.length + value.length);
  const url = URL.parse(href);
  if (url === null) throw new TypeError("Invalid URL");
  if (b === "href") {
    const next = URL.parse(value);
    return next === null ? null : components(next);
  }
  (url as unknown as Record<string, string>)[b] = value;
  return components(url);
};

export const urlOps = { urlParse, urlSet } satisfies Record<string, HostOp>;
