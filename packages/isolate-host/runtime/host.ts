/**
 * The runtime's only way to the host: two functions handed to __edgeInit and
 * kept in this module, out of scripts' reach. `call` blocks for a result
 * (randomness, digests); `post` starts host work whose result comes back
 * later through `complete()` (fetch), or that needs no answer (timers). The
 * host copies every argument and trusts none of them.
 */

import { markIo } from "./performance.js";

export type HostCall = (op: string, a?: unknown, b?: unknown, c?: unknown) => unknown;
export type HostPost = (op: string, a?: unknown, b?: unknown, c?: unknown) => void;

interface Waiter {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

// Captured while the runtime loads, before any script code exists.
const reflectApply = Reflect.apply;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;

let hostCallFn: HostCall | null = null;
let hostPostFn: HostPost | null = null;
const waiters = new Map<number, Waiter>();
let nextId = 1;

export function setHost(call: HostCall, post: HostPost): void {
  hostCallFn = call;
  hostPostFn = post;
}

/** A synchronous host operation (the isolate waits for the answer). */
export function hostCall(op: string, a?: unknown, b?: unknown, c?: unknown): unknown {
  if (hostCallFn === null) throw new Error("The host is not available here");
  return reflectApply(hostCallFn, undefined, [op, a, b, c]);
}

/** Tells the host something; no answer. */
export function hostPost(op: string, a?: unknown, b?: unknown, c?: unknown): void {
  if (hostPostFn === null) throw new Error("The host is not available here");
  reflectApply(hostPostFn, undefined, [op, a, b, c]);
}

/** Starts an asynchronous host operation; settles when the host calls complete(). */
export function hostStart(op: string, a?: unknown, b?: unknown): { id: number; promise: Promise<unknown> } {
  const id = nextId++;
  const promise = new Promise<unknown>((resolve, reject) => {
    reflectApply(mapSet, waiters, [id, { resolve, reject }]);
  });
  hostPost(op, id, a, b);
  return { id, promise };
}

/** Host operations started and not yet completed or forgotten: each will call back into the isolate. */
export function pendingHostOperations(): number {
  return waiters.size;
}

/** Forgets an operation the script gave up on (e.g. an aborted fetch). */
export function hostForget(id: number): void {
  reflectApply(mapDelete, waiters, [id]);
}

/** Called by the host with an operation's result: ok with a value, or an { name, message } error. */
export function complete(id: number, ok: boolean, value: unknown): void {
  markIo();
  const waiter = reflectApply(mapGet, waiters, [id]) as Waiter | undefined;
  if (waiter === undefined) return;
  reflectApply(mapDelete, waiters, [id]);
  if (ok) {
    waiter.resolve(value);
    return;
  }
  const detail = (value ?? {}) as { name?: unknown; message?: unknown };
  const error = new TypeError(typeof detail.message === "string" ? detail.message : "Host operation failed");
  if (typeof detail.name === "string" && detail.name !== "TypeError") {
    Object.defineProperty(error, "name", { value: detail.name, configurable: true, writable: true });
  }
  waiter.reject(error);
}
