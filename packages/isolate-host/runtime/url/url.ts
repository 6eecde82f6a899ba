/**
 * URL (URL Standard §6.1) parsed by the host: Node's URL (ada, in C++) parses
 * and runs setters through the synchronous `urlParse`/`urlSet` host operations
 * (src/host/url.ts), a few microseconds each, where a parser in the isolate
 * (whatwg-url) cost about a millisecond per URL. The simplest URLs (e.g. a
 * request's own URL) are cut up in the isolate by ./fast-path.ts instead.
 * The isolate keeps the components as strings, so getters never leave it.
 */
import { hostCall } from "../host.js";
import { parseSimple } from "./fast-path.js";
import { toUSVString } from "./form-urlencoded.js";
import { resetSearchParams, searchParamsForUrl, type URLSearchParams } from "./search-params.js";

/** Indexes into the components the host returns (src/host/url.ts URL_COMPONENTS). */
enum C {
  href,
  origin,
  protocol,
  username,
  password,
  host,
  hostname,
  port,
  pathname,
  search,
  hash,
}

/** Kept in step with src/host/url.ts: longer input is refused without asking the host. */
const MAX_URL_LENGTH = 2 * 1024 * 1024;

function parse(input: string, base: string | undefined): string[] | null {
  if (input.length > MAX_URL_LENGTH || (base !== undefined && base.length > MAX_URL_LENGTH)) return null;
  // The simplest URLs are cut up here (./fast-path.ts); the host parses the rest.
  const baseParts = base === undefined ? null : parseSimple(base, null);
  if (base === undefined || baseParts !== null) {
    const simple = parseSimple(input, baseParts);
    if (simple !== null) return simple;
  }
  return hostCall("urlParse", input, base) as string[] | null;
}

function invalid(input: string): TypeError {
  const shown = input.length > 200 ? `${input.slice(0, 200)}…` : input;
  return new TypeError(`Invalid URL: ${shown}`);
}

function requireArgs(count: number, what: string): void {
  if (count < 1) throw new TypeError(`Failed to ${what}: 1 argument required, but only 0 present.`);
}

export class URL {
  #c: string[];
  #params: URLSearchParams | null = null;

  constructor(...args: unknown[]) {
    requireArgs(args.length, "construct 'URL'");
    const input = toUSVString(args[0]);
    const components = parse(input, args[1] === undefined ? undefined : toUSVString(args[1]));
    if (components === null) throw invalid(input);
    this.#c = components;
  }

  static canParse(...args: unknown[]): boolean {
    requireArgs(args.length, "execute 'canParse' on 'URL'");
    return parse(toUSVString(args[0]), args[1] === undefined ? undefined : toUSVString(args[1])) !== null;
  }

  static parse(...args: unknown[]): URL | null {
    requireArgs(args.length, "execute 'parse' on 'URL'");
    try {
      return new URL(args[0], args[1]);
    } catch {
      return null;
    }
  }

  #set(setter: string, value: unknown): void {
    const text = toUSVString(value);
    if (text.length > MAX_URL_LENGTH) return;
    this.#c = hostCall("urlSet", this.#c[C.href], setter, text) as string[];
  }

  get href(): string {
    return this.#c[C.href]!;
  }
  set href(value: unknown) {
    const input = toUSVString(value);
    const components =
      input.length > MAX_URL_LENGTH
        ? null
        : (hostCall("urlSet", this.#c[C.href], "href", input) as string[] | null);
    if (components === null) throw invalid(input);
    this.#c = components;
    if (this.#params !== null) resetSearchParams(this.#params, this.#query());
  }

  get origin(): string {
    return this.#c[C.origin]!;
  }

  get protocol(): string {
    return this.#c[C.protocol]!;
  }
  set protocol(value: unknown) {
    this.#set("protocol", value);
  }

  get username(): string {
    return this.#c[C.username]!;
  }
  set username(value: unknown) {
    this.#set("username", value);
  }

  get password(): string {
    return this.#c[C.password]!;
  }
  set password(value: unknown) {
    this.#set("password", value);
  }

  get host(): string {
    return this.#c[C.host]!;
  }
  set host(value: unknown) {
    this.#set("host", value);
  }

  get hostname(): string {
    return this.#c[C.hostname]!;
  }
  set hostname(value: unknown) {
    this.#set("hostname", value);
  }

  get port(): string {
    return this.#c[C.port]!;
  }
  set port(value: unknown) {
    this.#set("port", value);
  }

  get pathname(): string {
    return this.#c[C.pathname]!;
  }
  set pathname(value: unknown) {
    this.#set("pathname", value);
  }

  get search(): string {
    return this.#c[C.search]!;
  }
  set search(value: unknown) {
    this.#set("search", value);
    if (this.#params !== null) resetSearchParams(this.#params, this.#query());
  }

  get searchParams(): URLSearchParams {
    this.#params ??= searchParamsForUrl(this.#query(), (serialized) => {
      this.#c = hostCall("urlSet", this.#c[C.href], "search", serialized) as string[];
    });
    return this.#params;
  }

  get hash(): string {
    return this.#c[C.hash]!;
  }
  set hash(value: unknown) {
    this.#set("hash", value);
  }

  toString(): string {
    return this.#c[C.href]!;
  }

  toJSON(): string {
    return this.#c[C.href]!;
  }

  get [Symbol.toStringTag](): string {
    return "URL";
  }

  #query(): string {
    return this.#c[C.search]!.slice(1);
  }
}
