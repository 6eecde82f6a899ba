/**
 * Outbound fetch(): the request is built and its body read here, then the
 * host performs it (it owns the network and enforces the limits: number of
 * subrequests, timeout, response size, forbidden targets) and sends back the
 * whole response.
 */
import { bodyBytesOf, bodySource } from "./body.js";
import { DOMException } from "./dom-exception.js";
import { addAbortSteps } from "./events.js";
import { freezeHeaders, headerList, headersFromHost } from "./headers.js";
import { hostForget, hostPost, hostStart } from "./host.js";
import { Request, type RequestInit } from "./request.js";
import { internalResponse, type Response } from "./response.js";

/** What the host sends back for a completed subrequest. */
interface HostFetchResult {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  url: string;
  redirected: boolean;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function abortReason(reason: unknown): unknown {
  return reason === undefined ? new DOMException("The operation was aborted.", "AbortError") : reason;
}

/** Cloudflare's `cf` caching options (`cacheTtl`, `cacheEverything`, `cacheKey`), as plain data. */
function cfOptions(init: RequestInit | undefined): Record<string, unknown> | null {
  const cf = (init as { cf?: unknown } | undefined)?.cf;
  if (typeof cf !== "object" || cf === null) return null;
  const { cacheTtl, cacheEverything, cacheKey } = cf as Record<string, unknown>;
  return {
    cacheTtl: typeof cacheTtl === "number" ? cacheTtl : null,
    cacheEverything: cacheEverything === true,
    cacheKey: typeof cacheKey === "string" ? cacheKey : null,
  };
}

export async function fetch(input: unknown, init?: RequestInit): Promise<Response> {
  const request = new Request(input as string, init ?? {});
  const signal = init?.signal ?? null;
  if (signal?.aborted) throw abortReason(signal.reason);
  const body = await bodyBytesOf(bodySource(request));
  if (signal?.aborted) throw abortReason(signal.reason);
  const { id, promise } = hostStart("fetch", {
    method: request.method,
    url: request.url,
    headers: headerList(request.headers).map(([name, value]) => [name, value]),
    body,
    redirect: request.redirect,
    cf: cfOptions(init),
  });
  let aborted: Promise<never> | null = null;
  if (signal !== null) {
    aborted = new Promise<never>((_resolve, reject) => {
      addAbortSteps(signal, () => {
        hostForget(id);
        hostPost("fetchAbort", id);
        reject(abortReason(signal.reason));
      });
    });
  }
  const result = (await (aborted === null ? promise : Promise.race([promise, aborted]))) as HostFetchResult;
  return internalResponse({
    status: result.status,
    statusText: result.statusText,
    headers: freezeHeaders(headersFromHost(result.headers)),
    body: {
      bytes: NULL_BODY_STATUSES.has(result.status) || request.method === "HEAD" ? null : result.body,
      stream: null,
    },
    url: result.url,
    redirected: result.redirected,
  });
}
