/** Fetch-standard Request over a buffered body (see body.ts). */
import { Body, type BodyInit, bodyBytes, extractBody } from "./body.js";
import { freezeHeaders, Headers, type HeadersInit, headersFromHost } from "./headers.js";
import { whatwgUrl } from "./url.js";

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit;
  redirect?: string;
}

/** What the host hands over for the incoming request. */
export interface HostRequestData {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
}

const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REDIRECT_MODES = new Set(["follow", "error", "manual"]);
// Lets requestFromHost use the constructor without exposing a bypass to scripts.
const FROM_HOST = Symbol("fromHost");

function normalizeMethod(method: unknown): string {
  const str = String(method);
  if (!TOKEN.test(str)) throw new TypeError(`'${str}' is not a valid HTTP method.`);
  const upper = str.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${str}' HTTP method is unsupported.`);
  return NORMALIZED_METHODS.has(upper) ? upper : str;
}

interface Parts {
  url: string;
  method: string;
  headers: Headers;
  bytes: Uint8Array | null;
  redirect: string;
}

function partsFromInput(input: unknown, init: RequestInit): Parts {
  let parts: Parts;
  if (input instanceof Request) {
    if (input.bodyUsed)
      throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
    parts = {
      url: input.url,
      method: input.method,
      headers: new Headers(input.headers),
      bytes: bodyBytes(input),
      redirect: input.redirect,
    };
  } else {
    parts = {
      url: new (whatwgUrl().URL)(String(input)).href,
      method: "GET",
      headers: new Headers(),
      bytes: null,
      redirect: "follow",
    };
  }
  if (init.method !== undefined) parts.method = normalizeMethod(init.method);
  if (init.headers !== undefined) parts.headers = new Headers(init.headers);
  if (init.redirect !== undefined) {
    if (!REDIRECT_MODES.has(init.redirect)) throw new TypeError(`Invalid redirect value: '${init.redirect}'`);
    parts.redirect = init.redirect;
  }
  // A null or missing init body keeps the input Request's body, as the Fetch standard says.
  if (init.body !== undefined && init.body !== null) {
    const extracted = extractBody(init.body);
    parts.bytes = extracted.bytes;
    if (extracted.contentType !== null && !parts.headers.has("content-type")) {
      parts.headers.append("content-type", extracted.contentType);
    }
  }
  if ((parts.method === "GET" || parts.method === "HEAD") && parts.bytes !== null) {
    throw new TypeError("Request with a GET or HEAD method cannot have a body.");
  }
  return parts;
}

export class Request extends Body {
  readonly #url: string;
  readonly #method: string;
  readonly #headers: Headers;
  readonly #redirect: string;

  constructor(input: Request | { href: string } | string, init: RequestInit = {}) {
    const parts =
      (input as unknown) === FROM_HOST ? (init as unknown as Parts) : partsFromInput(input, init ?? {});
    super(parts.bytes);
    this.#url = parts.url;
    this.#method = parts.method;
    this.#headers = parts.headers;
    this.#redirect = parts.redirect;
  }

  get url(): string {
    return this.#url;
  }
  get method(): string {
    return this.#method;
  }
  get headers(): Headers {
    return this.#headers;
  }
  get redirect(): string {
    return this.#redirect;
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError("Cannot clone a Request whose body has already been used.");
    return new Request(this);
  }

  get [Symbol.toStringTag](): string {
    return "Request";
  }
}

/**
 * The incoming request. The host has already normalised the URL with its own
 * WHATWG parser, so it is taken as is (no need to load whatwg-url here);
 * headers are immutable as in Workers.
 */
export function requestFromHost(data: HostRequestData): Request {
  const parts: Parts = {
    url: data.url,
    method: normalizeMethod(data.method),
    headers: freezeHeaders(headersFromHost(data.headers)),
    bytes:
      data.body === null
        ? null
        : new Uint8Array(data.body.buffer, data.body.byteOffset, data.body.byteLength),
    redirect: "follow",
  };
  return new Request(FROM_HOST as unknown as string, parts as unknown as RequestInit);
}
