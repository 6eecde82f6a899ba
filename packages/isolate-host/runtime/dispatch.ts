/**
 * The in-isolate half of a run: calls the script's fetch handler with the
 * host's request and turns what comes back into plain data for the host.
 * A streamed body is then read by the host through pull(), and ctx.waitUntil
 * work is awaited through settle() after the response has gone out. Script
 * failures become outcomes (not throws) so the host can tell them apart from
 * the isolate being killed. One isolate serves one request, so the state of
 * that request lives in this module.
 */

import { markResponded } from "./admission/run-state.js";
import { bodySource } from "./body.js";
import { logInternal } from "./console.js";
import { describeError, stackOf } from "./describe-error.js";
import { headerList } from "./headers.js";
import { withKvBindings } from "./kv/namespace.js";
import { markIo } from "./performance.js";
import { type HostRequestData, type Request, requestFromHost } from "./request.js";
import { Response } from "./response.js";
import { BodyTooLargeError, chunkBytes, concatBytes, type StreamReader } from "./streams.js";
import { TextEncoder } from "./text-encoding.js";

export type ScriptFailureCode =
  | "EDGE_SCRIPT_ERROR"
  | "EDGE_BAD_RESPONSE"
  | "EDGE_NO_FETCH_HANDLER"
  | "EDGE_RESPONSE_TOO_LARGE";

export type Outcome =
  | {
      ok: true;
      status: number;
      headers: Array<[string, string]>;
      /** The whole body, or null when it is a stream to pull(). */
      body: Uint8Array | null;
      /** ctx.waitUntil() promises still pending when the response was ready. */
      waitUntil: number;
    }
  | { ok: false; code: ScriptFailureCode; message: string; stack?: string };

/** One pull(): a chunk, the end, or a failure of the script's stream. */
export type PullResult =
  | { done: false; chunk: Uint8Array }
  | { done: true }
  | { done: true; code: ScriptFailureCode; message: string; stack?: string };

interface FetchHandler {
  fetch(request: unknown, env: unknown, ctx: unknown): unknown;
}

// Captured while the runtime loads: a script may replace these and only breaks itself,
// but waitUntil bookkeeping should not depend on them.
const allSettled: (values: unknown[]) => Promise<PromiseSettledResult<unknown>[]> =
  Promise.allSettled.bind(Promise);
const promiseResolve = Promise.resolve.bind(Promise);
const promiseThen = Promise.prototype.then;
const ignore = (): void => {};
const pending: unknown[] = [];
let reader: StreamReader | null = null;

/** ctx.waitUntil() promises still pending (settle() awaits them). */
export function pendingWaitUntil(): number {
  return pending.length;
}

export class ExecutionContext {
  waitUntil(promise: unknown): void {
    const settled = promiseResolve(promise);
    // Handled here so a rejection is not "unhandled" before settle() looks at it.
    Reflect.apply(promiseThen, settled, [ignore, ignore]);
    pending.push(settled);
  }
  passThroughOnException(): void {
    // No origin to pass through to on this platform.
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  try {
    return `an object (${Object.prototype.toString.call(value)})`;
  } catch {
    return "an object";
  }
}

/** The module's default export when it is an object or function, else null. */
export function defaultExport(namespace: Record<string, unknown>): Record<string, unknown> | null {
  const handler = namespace.default as Record<string, unknown> | null | undefined;
  return (typeof handler === "object" || typeof handler === "function") && handler !== null ? handler : null;
}

function handlerOf(namespace: Record<string, unknown>): FetchHandler | null {
  const handler = namespace.default as Partial<FetchHandler> | null | undefined;
  if ((typeof handler !== "object" && typeof handler !== "function") || handler === null) return null;
  return typeof handler.fetch === "function" ? (handler as FetchHandler) : null;
}

const NO_HANDLER = {
  ok: false,
  code: "EDGE_NO_FETCH_HANDLER",
  message: "The script has no default export with a fetch() or scheduled() method",
} as const;

/**
 * Prepare-time check that the module is a Workers-style handler: a default
 * export with fetch() or scheduled() (a Cron Triggers-only Worker).
 */
export function validate(namespace: Record<string, unknown>): Outcome | null {
  try {
    if (handlerOf(namespace) !== null) return null;
    return typeof defaultExport(namespace)?.scheduled === "function" ? null : NO_HANDLER;
  } catch (err) {
    return { ok: false, code: "EDGE_SCRIPT_ERROR", message: describeError(err) };
  }
}

export async function dispatch(
  namespace: Record<string, unknown>,
  data: HostRequestData,
  env: Record<string, string>,
  kvBindings?: readonly string[],
): Promise<Outcome> {
  markIo();
  try {
    return await dispatchOnce(namespace, data, env, kvBindings);
  } finally {
    markResponded();
  }
}

async function dispatchOnce(
  namespace: Record<string, unknown>,
  data: HostRequestData,
  env: Record<string, string>,
  kvBindings?: readonly string[],
): Promise<Outcome> {
  let result: unknown;
  try {
    const handler = handlerOf(namespace);
    if (handler === null) return NO_HANDLER;
    const fullEnv = kvBindings && kvBindings.length > 0 ? withKvBindings(env, kvBindings) : env;
    result = await handler.fetch(requestFromHost(data), fullEnv, new ExecutionContext());
  } catch (err) {
    return { ok: false, code: "EDGE_SCRIPT_ERROR", message: describeError(err), stack: stackOf(err) };
  }
  if (!(result instanceof Response)) {
    return {
      ok: false,
      code: "EDGE_BAD_RESPONSE",
      message: `The script's fetch handler returned ${describeValue(result)} instead of a Response`,
    };
  }
  try {
    if (result.bodyUsed) throw new TypeError("The response's body has already been used");
    const source = bodySource(result);
    let body: Uint8Array | null = source.bytes ?? new Uint8Array(0);
    if (source.stream !== null) {
      reader = source.stream.getReader() as StreamReader;
      body = null;
    }
    return {
      ok: true,
      status: result.status,
      headers: headerList(result.headers).map(([name, value]): [string, string] => [name, value]),
      body,
      waitUntil: pending.length,
    };
  } catch (err) {
    return { ok: false, code: "EDGE_BAD_RESPONSE", message: describeError(err) };
  }
}

/**
 * Runs the runtime's request path once with a handler of its own, before any
 * script code exists, so the first real request finds V8's inline caches and
 * feedback for it warm. It leaves nothing behind: no waitUntil work, no
 * stream reader, no host call.
 */
export async function rehearse(): Promise<void> {
  const handler: FetchHandler = {
    async fetch(request: unknown) {
      const req = request as Request;
      req.headers.get("content-type");
      for (const _entry of req.headers) {
        // iterating warms the headers iterator
      }
      const body = (await req.json()) as { a: number };
      return Response.json({ a: body.a, url: req.url, method: req.method }, { headers: { "x-a": "b" } });
    },
  };
  const data: HostRequestData = {
    method: "POST",
    url: "https://rehearsal.example/a?b=c",
    headers: [
      ["accept", "*/*"],
      ["content-type", "application/json"],
    ],
    body: new TextEncoder().encode('{"a":1}'),
  };
  const outcome = await dispatchOnce({ default: handler }, data, {});
  if (!outcome.ok) throw new Error(`runtime rehearsal failed: ${outcome.message}`);
}

/**
 * The next part of a streamed response body. With `all`, reads to the end and
 * returns it as one chunk (the buffered path); past `maxBytes` it fails with
 * EDGE_RESPONSE_TOO_LARGE and cancels the stream.
 */
export async function pull(all: boolean, maxBytes: number): Promise<PullResult> {
  markIo();
  if (reader === null) return { done: true };
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        reader = null;
        break;
      }
      const bytes = chunkBytes(next.value);
      total += bytes.byteLength;
      if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
      if (bytes.byteLength === 0) continue;
      if (!all) return { done: false, chunk: bytes.slice() };
      chunks.push(bytes);
    }
  } catch (err) {
    await cancel(err);
    const code = err instanceof BodyTooLargeError ? "EDGE_RESPONSE_TOO_LARGE" : "EDGE_SCRIPT_ERROR";
    return { done: true, code, message: describeError(err), stack: stackOf(err) };
  }
  return chunks.length === 0 && !all ? { done: true } : { done: false, chunk: concatBytes(chunks, total) };
}

/** The client went away: cancel the script's stream (its cancel() callback runs). */
export async function cancel(reason?: unknown): Promise<void> {
  const current = reader;
  reader = null;
  if (current !== null) await current.cancel(reason).catch(() => {});
}

/** Awaits every ctx.waitUntil() promise, including ones added meanwhile; logs rejections. */
export async function settle(): Promise<void> {
  while (pending.length > 0) {
    const results = await allSettled(pending.splice(0));
    for (const result of results) {
      if (result.status === "rejected")
        logInternal("error", `Uncaught (in waitUntil) ${describeError(result.reason)}`);
    }
  }
}
