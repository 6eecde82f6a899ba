/** Fetch-standard Response over a buffered body (see body.ts). */
import { Body, type BodyInit, type BodySource, cloneBodySource, extractBody } from "./body.js";
import { cloneHeaders, freezeHeaders, Headers, type HeadersInit } from "./headers.js";
import { whatwgUrl } from "./url.js";

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

interface Parts {
  status: number;
  statusText: string;
  headers: Headers;
  body: BodySource;
  url: string;
  redirected: boolean;
  /** Response.error(): type "error". */
  error?: boolean;
}

/** Lets the runtime build responses the constructor refuses (fetch results with any status). */
const INTERNAL = Symbol("internal");

function partsFromInit(body: unknown, init: ResponseInit): Parts {
  const status = init.status === undefined ? 200 : Number(init.status);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(
      `Responses may only be constructed with status codes in the range 200 to 599, inclusive.`,
    );
  }
  const statusText = init.statusText === undefined ? "" : String(init.statusText);
  if (!REASON_PHRASE.test(statusText)) throw new TypeError("Invalid statusText");
  const headers = new Headers(init.headers);
  const extracted = extractBody(body);
  if ((extracted.bytes !== null || extracted.stream !== null) && NULL_BODY_STATUSES.has(status)) {
    throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
  }
  if (extracted.contentType !== null && !headers.has("content-type")) {
    headers.append("content-type", extracted.contentType);
  }
  return {
    status,
    statusText,
    headers,
    body: { bytes: extracted.bytes, stream: extracted.stream },
    url: "",
    redirected: false,
  };
}

export class Response extends Body {
  readonly #status: number;
  readonly #statusText: string;
  readonly #headers: Headers;
  readonly #url: string;
  readonly #redirected: boolean;
  readonly #error: boolean;

  constructor(body: BodyInit = null, init: ResponseInit = {}) {
    const parts =
      (body as unknown) === INTERNAL ? (init as unknown as Parts) : partsFromInit(body, init ?? {});
    super(parts.body, parts.headers);
    this.#status = parts.status;
    this.#statusText = parts.statusText;
    this.#headers = parts.headers;
    this.#url = parts.url;
    this.#redirected = parts.redirected;
    this.#error = parts.error === true;
  }

  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }

  static redirect(url: string | { href: string }, status = 302): Response {
    const location = new (whatwgUrl().URL)(String(url)).href;
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Invalid status code: ${status}`);
    return internalResponse({
      status,
      statusText: "",
      headers: freezeHeaders(new Headers({ location })),
      body: { bytes: null, stream: null },
      url: "",
      redirected: false,
    });
  }

  /** A network error: type "error", status 0, immutable empty headers. */
  static error(): Response {
    return internalResponse({
      status: 0,
      statusText: "",
      headers: freezeHeaders(new Headers()),
      body: { bytes: null, stream: null },
      url: "",
      redirected: false,
      error: true,
    });
  }

  get status(): number {
    return this.#status;
  }
  get statusText(): string {
    return this.#statusText;
  }
  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }
  get headers(): Headers {
    return this.#headers;
  }
  get redirected(): boolean {
    return this.#redirected;
  }
  get type(): string {
    if (this.#error) return "error";
    return this.#url === "" ? "default" : "basic";
  }
  get url(): string {
    return this.#url;
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError("Cannot clone a Response whose body has already been used.");
    return internalResponse({
      status: this.#status,
      statusText: this.#statusText,
      headers: cloneHeaders(this.#headers),
      body: cloneBodySource(this),
      url: this.#url,
      redirected: this.#redirected,
      error: this.#error,
    });
  }

  get [Symbol.toStringTag](): string {
    return "Response";
  }
}

/** A Response built by the runtime itself (fetch results): any status, a URL, the redirected flag. */
export function internalResponse(parts: Parts): Response {
  return new Response(INTERNAL as unknown as BodyInit, parts as unknown as ResponseInit);
}

export type ResponseParts = Parts;
