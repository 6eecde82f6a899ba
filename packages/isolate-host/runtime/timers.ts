/**
 * setTimeout/setInterval and their clear functions, backed by host timers:
 * an isolate has no event loop of its own. The host fires a timer by calling
 * fire(id); it drops every timer when the request ends, so a timer never
 * outlives its request's limits. queueMicrotask runs on V8's own queue.
 */
import { logInternal } from "./console.js";
import { describeError } from "./describe-error.js";
import { hostPost } from "./host.js";
import { markIo } from "./performance.js";

interface Timer {
  callback: unknown;
  args: unknown[];
  delay: number;
  repeat: boolean;
}

/** A request cannot keep more timers pending than this. */
const MAX_TIMERS = 10_000;

const reflectApply = Reflect.apply;
const promiseThen = Promise.prototype.then;
const resolved = Promise.resolve();
const timers = new Map<number, Timer>();
let nextId = 1;

function toDelay(value: unknown): number {
  const delay = Number(value);
  return Number.isFinite(delay) && delay > 0 ? Math.min(delay, 2 ** 31 - 1) : 0;
}

function schedule(callback: unknown, delay: unknown, args: unknown[], repeat: boolean): number {
  if (timers.size >= MAX_TIMERS)
    throw new RangeError(`A request may not have more than ${MAX_TIMERS} pending timers`);
  const id = nextId++;
  const timer: Timer = { callback, args, delay: toDelay(delay), repeat };
  timers.set(id, timer);
  hostPost("timer", id, timer.delay);
  return id;
}

function clear(id: unknown): void {
  const key = Number(id);
  if (!timers.delete(key)) return;
  hostPost("clearTimer", key);
}

export function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): number {
  return schedule(callback, delay, args, false);
}

export function setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): number {
  return schedule(callback, delay, args, true);
}

export function clearTimeout(id?: unknown): void {
  clear(id);
}

export function clearInterval(id?: unknown): void {
  clear(id);
}

/** Timers the host will still fire. */
export function pendingTimers(): number {
  return timers.size;
}

/** Called by the host when timer `id` is due. */
export function fire(id: number): void {
  markIo();
  const timer = timers.get(id);
  if (timer === undefined) return;
  if (timer.repeat) hostPost("timer", id, Math.max(1, timer.delay));
  else timers.delete(id);
  try {
    // A string callback would be eval; like Workers, only functions run.
    if (typeof timer.callback === "function") reflectApply(timer.callback, globalThis, timer.args);
  } catch (err) {
    logInternal("error", `Uncaught (in timer callback) ${describeError(err)}`);
  }
}

export function queueMicrotask(...args: unknown[]): void {
  const callback = args[0];
  if (typeof callback !== "function") {
    throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
  }
  reflectApply(promiseThen, resolved, [
    () => {
      try {
        reflectApply(callback, undefined, []);
      } catch (err) {
        logInternal("error", `Uncaught (in queueMicrotask) ${describeError(err)}`);
      }
    },
  ]);
}
