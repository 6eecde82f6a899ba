/**
 * Event and EventTarget from event-target-shim (a WHATWG DOM implementation),
 * loaded on first use, with what the DOM standard asks of them on top
 * (runtime/events/classes.ts: CustomEvent, ErrorEvent, argument checks,
 * listener exceptions reported); AbortController and AbortSignal built on them.
 */
import { DOMException } from "./dom-exception.js";
import { eventClasses } from "./events/classes.js";
import { setTimeout } from "./timers.js";

type Shim = typeof import("event-target-shim");
type ShimEventTarget = InstanceType<Shim["EventTarget"]>;

let shim: Shim | null = null;
let loading = false;

export function eventTargetShim(): Shim {
  if (shim === null) {
    loading = true;
    try {
      shim = require("event-target-shim");
    } finally {
      loading = false;
    }
  }
  return shim;
}

/**
 * The shim reads globalThis.Event/EventTarget while it loads (to chain its
 * prototypes to a platform's): those lazy globals must look absent then
 * rather than recurse into the half-loaded module.
 */
export function eventTargetShimLoading(): boolean {
  return loading;
}

interface AbortClasses {
  AbortController: new () => AbortControllerLike;
  AbortSignal: AbortSignalStatics;
}

export interface AbortSignalLike extends ShimEventTarget {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  onabort: ((event: unknown) => void) | null;
}

interface AbortControllerLike {
  readonly signal: AbortSignalLike;
  abort(reason?: unknown): void;
}

interface AbortSignalStatics {
  abort(reason?: unknown): AbortSignalLike;
  timeout(ms: number): AbortSignalLike;
  any(signals: Iterable<AbortSignalLike>): AbortSignalLike;
}

let abortClasses: AbortClasses | null = null;
let isSignal: (value: unknown) => value is AbortSignalLike = (_value): _value is AbortSignalLike => false;

/** True for signals made by this runtime (and false before anything has loaded the classes). */
export function isAbortSignal(value: unknown): value is AbortSignalLike {
  return isSignal(value);
}

/** Adds an abort callback that runs before script listeners see the event. */
let onAbortSteps: (signal: AbortSignalLike, steps: () => void) => void = () => {};
let signalAbort: (signal: AbortSignalLike, reason: unknown) => void = () => {};

export function addAbortSteps(signal: AbortSignalLike, steps: () => void): void {
  onAbortSteps(signal, steps);
}

export function abortApi(): AbortClasses {
  if (abortClasses !== null) return abortClasses;
  const { EventTarget, Event } = eventClasses();
  const ILLEGAL = Symbol("illegal");

  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason: unknown = undefined;
    #steps: Array<() => void> = [];
    #onabort: ((event: unknown) => void) | null = null;
    /** DOM "dependent" signals (made by any()): linked to the source signals, never to other dependents. */
    #dependent = false;
    #sources: AbortSignal[] = [];
    #dependents: AbortSignal[] = [];

    static {
      isSignal = (value): value is AbortSignalLike =>
        typeof value === "object" && value !== null && #aborted in value;
      onAbortSteps = (signal, steps) => {
        (signal as unknown as AbortSignal).#steps.push(steps);
      };
      signalAbort = (signal, reason) => (signal as unknown as AbortSignal).#signalAbort(reason);
    }

    constructor(key?: unknown) {
      if (key !== ILLEGAL) throw new TypeError("Illegal constructor");
      super();
    }

    static abort(reason?: unknown): AbortSignal {
      const signal = new AbortSignal(ILLEGAL);
      signal.#aborted = true;
      signal.#reason =
        reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      return signal;
    }

    static timeout(ms: unknown): AbortSignal {
      const delay = Number(ms);
      if (!Number.isFinite(delay) || delay < 0)
        throw new TypeError("AbortSignal.timeout() needs a non-negative number");
      const signal = new AbortSignal(ILLEGAL);
      setTimeout(
        () => signal.#signalAbort(new DOMException("The operation timed out.", "TimeoutError")),
        delay,
      );
      return signal;
    }

    static any(signals: Iterable<unknown>): AbortSignal {
      const list = Array.from(signals, (signal) => {
        if (!isSignal(signal)) throw new TypeError("AbortSignal.any() takes AbortSignals only");
        return signal as unknown as AbortSignal;
      });
      const result = new AbortSignal(ILLEGAL);
      const aborted = list.find((signal) => signal.#aborted);
      if (aborted !== undefined) {
        result.#aborted = true;
        result.#reason = aborted.#reason;
        return result;
      }
      result.#dependent = true;
      for (const signal of list) {
        for (const source of signal.#dependent ? signal.#sources : [signal]) {
          if (source.#aborted || result.#sources.includes(source)) continue;
          result.#sources.push(source);
          source.#dependents.push(result);
        }
      }
      return result;
    }

    get aborted(): boolean {
      return this.#aborted;
    }
    get reason(): unknown {
      return this.#reason;
    }
    get onabort(): ((event: unknown) => void) | null {
      return this.#onabort;
    }
    set onabort(handler: ((event: unknown) => void) | null) {
      if (this.#onabort !== null) this.removeEventListener("abort", this.#onabort as never);
      this.#onabort = typeof handler === "function" ? handler : null;
      if (this.#onabort !== null) this.addEventListener("abort", this.#onabort as never);
    }

    throwIfAborted(): void {
      if (this.#aborted) throw this.#reason;
    }

    /**
     * DOM "signal abort": record the reason here and on every dependent not yet aborted, then,
     * signal by signal (this one first), run the internal abort steps and fire a trusted "abort".
     */
    #signalAbort(reason: unknown): void {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason =
        reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      const dependents: AbortSignal[] = [];
      for (const dependent of this.#dependents.splice(0)) {
        if (dependent.#aborted) continue;
        dependent.#aborted = true;
        dependent.#reason = this.#reason;
        dependents.push(dependent);
      }
      this.#runAbortSteps();
      for (const dependent of dependents) dependent.#runAbortSteps();
    }

    #runAbortSteps(): void {
      for (const steps of this.#steps.splice(0)) steps();
      // isTrusted stays false: event-target-shim fixes it on every event it makes.
      this.dispatchEvent(new Event("abort"));
    }

    get [Symbol.toStringTag](): string {
      return "AbortSignal";
    }
  }

  class AbortController {
    readonly #signal = new AbortSignal(ILLEGAL);

    get signal(): AbortSignal {
      return this.#signal;
    }

    abort(reason?: unknown): void {
      signalAbort(this.#signal as unknown as AbortSignalLike, reason);
    }

    get [Symbol.toStringTag](): string {
      return "AbortController";
    }
  }

  abortClasses = {
    AbortController: AbortController as unknown as AbortClasses["AbortController"],
    AbortSignal: AbortSignal as unknown as AbortSignalStatics,
  };
  return abortClasses;
}
