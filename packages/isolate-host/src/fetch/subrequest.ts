import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { type HostBytes, UNBOUNDED_HOST_BYTES } from "../host-memory.js";
import { addressRefused, hostAllowed, hostRefused } from "./egress.js";
import type { FetchPolicy } from "./fetch-options.js";

/** A subrequest as the isolate describes it; every field is re-validated here. */
export interface SubrequestInput {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  redirect: "follow" | "manual" | "error";
}

/** The whole response, body decompressed, handed back to the isolate. */
export interface SubrequestResult {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  url: string;
  redirected: boolean;
}

/**
 * Why a subrequest failed, as the script sees it (a TypeError unless `name`
 * says otherwise). `limit` marks failures caused by a platform limit, so an
 * uncaught one can end the run with that limit's code.
 */
export class SubrequestError extends Error {
  readonly limit: "EDGE_SUBREQUEST_LIMIT" | "EDGE_RESPONSE_TOO_LARGE" | "EDGE_MEMORY_LIMIT" | null;
  constructor(message: string, options: { name?: string; limit?: SubrequestError["limit"] } = {}) {
    super(message);
    this.name = options.name ?? "TypeError";
    this.limit = options.limit ?? null;
  }
}

/** Counts a request's subrequests against the policy (redirect hops count too). */
export interface SubrequestBudget {
  used: number;
}

/**
 * The hop header: how many edge runs a request has been through. Every
 * subrequest carries the count of the run that made it plus one (a script
 * cannot set it); an edge node refuses a request at MAX_HOPS (loop detection).
 */
export const HOP_HEADER = "x-edge-hops";
export const MAX_HOPS = 16;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const MAX_REDIRECTS = 20;
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
  HOP_HEADER,
]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** One message for every way a connection can fail, so errors do not map ports or networks. */
function unreachable(url: URL): SubrequestError {
  return new SubrequestError(`Network connection to ${url.origin} failed`);
}

function validInput(value: unknown): SubrequestInput {
  const input = value as Partial<SubrequestInput> | null;
  const fail = (what: string): never => {
    throw new SubrequestError(`fetch() was given an invalid ${what}`);
  };
  if (typeof input !== "object" || input === null) return fail("request");
  if (typeof input.method !== "string" || !TOKEN.test(input.method)) fail("method");
  if (typeof input.url !== "string") fail("URL");
  if (
    !Array.isArray(input.headers) ||
    !input.headers.every(
      (pair) =>
        Array.isArray(pair) &&
        typeof pair[0] === "string" &&
        typeof pair[1] === "string" &&
        TOKEN.test(pair[0]) &&
        !BAD_VALUE.test(pair[1]),
    )
  ) {
    fail("header list");
  }
  if (input.body !== null && !(input.body instanceof Uint8Array)) fail("body");
  if (input.redirect !== "follow" && input.redirect !== "manual" && input.redirect !== "error")
    fail("redirect mode");
  return input as SubrequestInput;
}

/**
 * Performs one fetch() for a script: follows redirects (each hop checked and
 * counted), refuses forbidden targets (also after DNS), stops at the timeout or
 * when `signal` aborts, and caps the decompressed body.
 */
export async function performSubrequest(
  raw: unknown,
  policy: FetchPolicy,
  budget: SubrequestBudget,
  signal: AbortSignal,
  hops = 0,
  memory: HostBytes = UNBOUNDED_HOST_BYTES,
): Promise<SubrequestResult> {
  const input = validInput(raw);
  const timeout = AbortSignal.timeout(Math.max(1, policy.timeoutMs));
  const combined = AbortSignal.any([signal, timeout]);
  let url = parseTarget(input.url);
  let method = input.method;
  let body = input.body;
  const headers = new Map<string, string[]>();
  for (const [name, value] of input.headers) {
    const key = name.toLowerCase();
    if (!HOP_BY_HOP.has(key)) headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", ["gzip, deflate, br"]);
  headers.set(HOP_HEADER, [String(Math.max(0, Math.floor(hops)) + 1)]);
  try {
    for (let hop = 0; ; hop++) {
      if (++budget.used > policy.maxSubrequests) {
        throw new SubrequestError(
          `Too many subrequests: a request may make at most ${policy.maxSubrequests}`,
          {
            name: "Error",
            limit: "EDGE_SUBREQUEST_LIMIT",
          },
        );
      }
      const response = await send(url, method, headers, body, policy, combined);
      const location = response.headers.location;
      if (
        !REDIRECT_STATUSES.has(response.statusCode ?? 0) ||
        location === undefined ||
        input.redirect === "manual"
      ) {
        return await readResponse(response, url, hop > 0, policy.maxResponseBytes, method, memory);
      }
      response.resume();
      if (input.redirect === "error")
        throw new SubrequestError(`fetch() was redirected and its redirect mode is "error"`);
      if (hop >= MAX_REDIRECTS) throw new SubrequestError("fetch() followed too many redirects");
      const next = parseTarget(new URL(location, url).href);
      const status = response.statusCode ?? 0;
      if (status === 303 ? method !== "HEAD" : (status === 301 || status === 302) && method === "POST") {
        method = "GET";
        body = null;
        for (const name of ["content-type", "content-encoding", "content-language", "content-location"])
          headers.delete(name);
      }
      if (next.origin !== url.origin) headers.delete("authorization");
      url = next;
    }
  } catch (err) {
    if (err instanceof SubrequestError) throw err;
    if (timeout.aborted)
      throw new SubrequestError(`The subrequest to ${url.origin} timed out after ${policy.timeoutMs} ms`, {
        name: "TimeoutError",
      });
    if (signal.aborted) throw new SubrequestError("The subrequest was aborted", { name: "AbortError" });
    throw unreachable(url);
  }

  function parseTarget(text: string): URL {
    let target: URL;
    try {
      target = new URL(text);
    } catch {
      throw new SubrequestError(`fetch() was given an invalid URL: ${text}`);
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw new SubrequestError(`fetch() cannot load ${target.protocol} URLs`);
    }
    if (hostRefused(policy, target.hostname, portOf(target))) throw unreachable(target);
    return target;
  }
}

function portOf(url: URL): number {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

function send(
  url: URL,
  method: string,
  headers: Map<string, string[]>,
  body: Uint8Array | null,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const port = portOf(url);
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, values] of headers) outgoing[name] = values.length === 1 ? values[0] : values;
  if (body !== null) outgoing["content-length"] = String(body.byteLength);
  const listed = hostAllowed(policy, url.hostname, port);
  // The connection goes to the addresses checked here (the lookup's answer is used as is).
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) return callback(err, "", 0);
      const allowed = addresses.filter((entry) => !addressRefused(policy, entry.address, port, listed));
      if (allowed.length < addresses.length || allowed.length === 0) {
        return callback(unreachable(url), "", 0);
      }
      if ((options as { all?: boolean }).all === true)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const first = allowed[0]!;
      return callback(null, first.address, first.family);
    });
  };
  return new Promise((resolve, reject) => {
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
      method,
      headers: outgoing,
      lookup: guardedLookup,
      signal,
      agent: false,
    });
    request.once("response", resolve);
    request.once("error", reject);
    request.end(body ?? undefined);
  });
}

async function readResponse(
  response: IncomingMessage,
  url: URL,
  redirected: boolean,
  maxBytes: number,
  method: string,
  memory: HostBytes,
): Promise<SubrequestResult> {
  const encoding = (response.headers["content-encoding"] ?? "").toLowerCase().trim();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : null;
  const source: Readable = decoder === null ? response : response.pipe(decoder);
  if (decoder !== null) response.once("error", (err) => decoder.destroy(err));
  const chunks: Buffer[] = [];
  let size = 0;
  if (method !== "HEAD") {
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (size + chunk.length > maxBytes) {
          response.destroy();
          throw new SubrequestError(`The subrequest's response is larger than the ${maxBytes}-byte limit`, {
            name: "RangeError",
            limit: "EDGE_RESPONSE_TOO_LARGE",
          });
        }
        const refused = memory.take(chunk.length);
        if (refused !== null) {
          response.destroy();
          throw refused === "request"
            ? new SubrequestError("The subrequest's response does not fit in the script's memory limit", {
                name: "RangeError",
                limit: "EDGE_MEMORY_LIMIT",
              })
            : new SubrequestError("The node has no memory for this subrequest's response right now");
        }
        size += chunk.length;
        chunks.push(chunk);
      }
    } catch (err) {
      // What was read goes; the caller releases a delivered body's bytes itself.
      memory.release(size);
      throw err;
    }
  } else {
    response.resume();
  }
  const headers: Array<[string, string]> = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) && name !== "content-length") continue;
    // The body is handed over decoded, so its encoding and length no longer apply.
    if (decoder !== null && (name === "content-encoding" || name === "content-length")) continue;
    if (TOKEN.test(name) && !BAD_VALUE.test(raw[i + 1]!)) headers.push([name, raw[i + 1]!]);
  }
  const body = Buffer.concat(chunks, size);
  return {
    status: response.statusCode ?? 502,
    statusText: response.statusMessage ?? "",
    headers,
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    url: url.href,
    redirected,
  };
}
