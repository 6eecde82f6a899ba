/**
 * The in-isolate half of a run: calls the script's fetch handler with the
 * host's request and turns what comes back into plain data for the host.
 * Script failures become outcomes (not throws) so the host can tell them
 * apart from the isolate being killed.
 */

import { bodyBytes } from "./body.js";
import { logInternal } from "./console.js";
import { headerList } from "./headers.js";
import { type HostRequestData, requestFromHost } from "./request.js";
import { Response } from "./response.js";

export type Outcome =
  | { ok: true; status: number; headers: Array<[string, string]>; body: Uint8Array }
  | { ok: false; code: "EDGE_SCRIPT_ERROR" | "EDGE_BAD_RESPONSE" | "EDGE_NO_FETCH_HANDLER"; message: string };

interface FetchHandler {
  fetch(request: unknown, env: unknown, ctx: unknown): unknown;
}

class ExecutionContext {
  readonly #pending: unknown[];
  constructor(pending: unknown[]) {
    this.#pending = pending;
  }
  waitUntil(promise: unknown): void {
    this.#pending.push(promise);
  }
  passThroughOnException(): void {
    // No origin to pass through to on this platform.
  }
}

export function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return `Uncaught ${typeof err === "string" ? err : String(err)}`;
  } catch {
    return "Uncaught exception (the thrown value could not be described)";
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

function handlerOf(namespace: Record<string, unknown>): FetchHandler | null {
  const handler = namespace.default as Partial<FetchHandler> | null | undefined;
  if ((typeof handler !== "object" && typeof handler !== "function") || handler === null) return null;
  return typeof handler.fetch === "function" ? (handler as FetchHandler) : null;
}

const NO_HANDLER = {
  ok: false,
  code: "EDGE_NO_FETCH_HANDLER",
  message: "The script has no default export with a fetch() method",
} as const;

/** Prepare-time check that the module is a Workers-style fetch handler. */
export function validate(namespace: Record<string, unknown>): Outcome | null {
  try {
    return handlerOf(namespace) === null ? NO_HANDLER : null;
  } catch (err) {
    return { ok: false, code: "EDGE_SCRIPT_ERROR", message: describeError(err) };
  }
}

async function settle(pending: unknown[]): Promise<void> {
  // waitUntil may be called from inside a waitUntil promise, so drain until empty.
  while (pending.length > 0) {
    const batch = pending.splice(0);
    const results = await Promise.allSettled(batch);
    for (const result of results) {
      if (result.status === "rejected")
        logInternal("error", `Uncaught (in waitUntil) ${describeError(result.reason)}`);
    }
  }
}

export async function dispatch(
  namespace: Record<string, unknown>,
  data: HostRequestData,
  env: Record<string, string>,
): Promise<Outcome> {
  const pending: unknown[] = [];
  let result: unknown;
  try {
    const handler = handlerOf(namespace);
    if (handler === null) return NO_HANDLER;
    result = await handler.fetch(requestFromHost(data), env, new ExecutionContext(pending));
  } catch (err) {
    return { ok: false, code: "EDGE_SCRIPT_ERROR", message: describeError(err) };
  }
  if (!(result instanceof Response)) {
    return {
      ok: false,
      code: "EDGE_BAD_RESPONSE",
      message: `The script's fetch handler returned ${describeValue(result)} instead of a Response`,
    };
  }
  await settle(pending);
  return {
    ok: true,
    status: result.status,
    headers: headerList(result.headers).map(([name, value]): [string, string] => [name, value]),
    body: bodyBytes(result) ?? new Uint8Array(0),
  };
}
