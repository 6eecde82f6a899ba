/** Fetch-standard Request over a buffered body (see body.ts). */
import {
  Body,
  type BodyInit,
  type BodySource,
  bodySource,
  cloneBodySource,
  extractBody,
  takeBodySource,
} from "./body.js";
import { type AbortSignalLike, abortApi, isAbortSignal } from "./events.js";
import { cloneHeaders, freezeHeaders, Headers, type HeadersInit, headersFromHost } from "./headers.js";
import { whatwgUrl } from "./url.js";

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit;
  redirect?: string;
  signal?: AbortSignalLike | null;
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
  body: BodySource;
  redirect: string;
  signal: AbortSignalLike | null;
}

const NO_BODY: BodySource = { bytes: null, stream: null };

function bodyPresent(request: Request): boolean {
  const source = bodySource(request);
  return source.bytes !== null || source.stream !== null;
}

let signalOf: (request: Request) => AbortSignalLike | null;

function partsFromInput(input: unknown, init: RequestInit): Parts {
  let parts: Parts;
  if (input instanceof Request) {
    if (input.bodyUsed)
      throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
    parts = {
      url: input.url,
      method: input.method,
      headers: new Headers(input.headers),
      body: NO_BODY,
      redirect: input.redirect,
      signal: signalOf(input),
    };
  } else {
    parts = {
      url: new (whatwgUrl().URL)(String(input)).href,
      method: "GET",
      headers: new Headers(),
      body: NO_BODY,
      redirect: "follow",
      signal: null,
    };
  }
  if (init.method !== undefined) parts.method = normalizeMethod(init.method);
  if (init.headers !== undefined) parts.headers = new Headers(init.headers);
  if (init.redirect !== undefined) {
    if (!REDIRECT_MODES.has(init.redirect)) throw new TypeError(`Invalid redirect value: '${init.redirect}'`);
    parts.redirect = init.redirect;
  }
  if (init.signal !== undefined) {
    if (init.signal !== null && !isAbortSignal(init.signal))
      throw new TypeError("signal is not an AbortSignal");
    parts.signal = init.signal;
  }
  let extracted: ReturnType<typeof extractBody> | null = null;
  if (init.body !== undefined && init.body !== null) {
    extracted = extractBody(init.body);
    if (extracted.contentType !== null && !parts.headers.has("content-type")) {
      parts.headers.append("content-type", extracted.contentType);
    }
  }
  const hasBody = extracted !== null || (input instanceof Request && bodyPresent(input));
  if ((parts.method === "GET" || parts.method === "HEAD") && hasBody) {
    throw new TypeError("Request with a GET or HEAD method cannot have a body.");
  }
  // A null or missing init body takes the input Request's body (moving it), as the Fetch standard says.
  if (extracted !== null) parts.body = { bytes: extracted.bytes, stream: extracted.stream };
  else if (input instanceof Request) parts.body = takeBodySource(input);
  return parts;
}

export class Request extends Body {
  readonly #url: string;
  readonly #method: string;
  readonly #headers: Headers;
  readonly #redirect: string;
  #signal: AbortSignalLike | null;

  static {
    signalOf = (request) => request.#signal;
  }

  constructor(input: Request | { href: string } | string, init: RequestInit = {}) {
    const parts =
      (input as unknown) === FROM_HOST ? (init as unknown as Parts) : partsFromInput(input, init ?? {});
    super(parts.body, parts.headers);
    this.#url = parts.url;
    this.#method = parts.method;
    this.#headers = parts.headers;
    this.#redirect = parts.redirect;
    this.#signal = parts.signal;
  }

  /** A signal that never aborts unless the Request was made with one (loads AbortSignal lazily). */
  get signal(): AbortSignalLike {
    this.#signal ??= new (abortApi().AbortController)().signal;
    return this.#signal;
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

  // The rest of the Fetch standard's Request attributes, with the values a
  // server-side request has (no browsing context, no referrer, no cache).
  get destination(): string {
    return "";
  }
  get referrer(): string {
    return "about:client";
  }
  get referrerPolicy(): string {
    return "";
  }
  get mode(): string {
    return "cors";
  }
  get credentials(): string {
    return "same-origin";
  }
  get cache(): string {
    return "default";
  }
  get integrity(): string {
    return "";
  }
  get keepalive(): boolean {
    return false;
  }
  get isReloadNavigation(): boolean {
    return false;
  }
  get isHistoryNavigation(): boolean {
    return false;
  }
  get duplex(): string {
    return "half";
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError("Cannot clone a Request whose body has already been used.");
    const parts: Parts = {
      url: this.#url,
      method: this.#method,
      headers: cloneHeaders(this.#headers),
      body: cloneBodySource(this),
      redirect: this.#redirect,
      signal: this.#signal,
    };
    return new Request(FROM_HOST as unknown as string, parts as unknown as RequestInit);
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
    body: {
      bytes:
        data.body === null
          ? null
          : new Uint8Array(data.body.buffer, data.body.byteOffset, data.body.byteLength),
      stream: null,
    },
    redirect: "follow",
    signal: null,
  };
  return new Request(FROM_HOST as unknown as string, parts as unknown as RequestInit);
}
