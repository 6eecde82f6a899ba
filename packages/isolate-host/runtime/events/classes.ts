/**
 * The DOM standard's Event, CustomEvent, EventTarget, and the HTML standard's
 * ErrorEvent, on top of event-target-shim: its classes do the dispatching;
 * these add what the shim leaves to its host (argument checks, interface
 * names, CustomEvent's detail, listener exceptions reported like uncaught
 * ones through reportError()).
 */
import { eventTargetShim } from "../events.js";
import { reportError } from "./report-error.js";

type Shim = typeof import("event-target-shim");

export interface EventClasses {
  Event: Shim["Event"];
  EventTarget: Shim["EventTarget"];
  CustomEvent: Shim["Event"];
  ErrorEvent: Shim["Event"];
}

let classes: EventClasses | null = null;

function requireType(args: unknown[], what: string): void {
  if (args.length === 0)
    throw new TypeError(`Failed to construct '${what}': 1 argument required, but only 0 present.`);
}

/** WebIDL dictionary conversion: undefined and null are empty, other non-objects a TypeError. */
function dictionary(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" && typeof value !== "function") {
    throw new TypeError(`Failed to construct '${what}': The provided value is not of type 'object'.`);
  }
  return value as Record<string, unknown>;
}

export function eventClasses(): EventClasses {
  if (classes !== null) return classes;
  const shim = eventTargetShim();
  // A listener that throws does not stop dispatch; its exception is reported, as an uncaught one would be.
  shim.setErrorHandler((error: unknown) => reportError(error));
  // The shim's warnings (e.g. preventDefault() in a passive listener) are not the script's console output.
  shim.setWarningHandler(() => {});

  class Event extends shim.Event {
    constructor(...args: unknown[]) {
      requireType(args, "Event");
      const type = `${args[0] as string}`;
      const init = dictionary(args[1], "Event");
      super(type, {
        bubbles: Boolean(init.bubbles),
        cancelable: Boolean(init.cancelable),
        composed: Boolean(init.composed),
      });
    }
    get [Symbol.toStringTag](): string {
      return "Event";
    }
  }

  class CustomEvent extends Event {
    #detail: unknown;
    constructor(...args: unknown[]) {
      requireType(args, "CustomEvent");
      super(...args);
      const init = dictionary(args[1], "CustomEvent");
      this.#detail = init.detail === undefined ? null : init.detail;
    }
    get detail(): unknown {
      return this.#detail;
    }
    initCustomEvent(...args: unknown[]): void {
      if (args.length === 0) {
        throw new TypeError(
          "Failed to execute 'initCustomEvent' on 'CustomEvent': 1 argument required, but only 0 present.",
        );
      }
      const [type, bubbles = false, cancelable = false, detail = null] = args;
      const self = this as unknown as {
        initEvent(t: string, b: boolean, c: boolean): void;
        eventPhase: number;
      };
      if (self.eventPhase !== 0) return; // the dispatch flag is set
      self.initEvent(`${type as string}`, Boolean(bubbles), Boolean(cancelable));
      this.#detail = detail;
    }
    override get [Symbol.toStringTag](): string {
      return "CustomEvent";
    }
  }

  class ErrorEvent extends Event {
    readonly #init: Record<string, unknown>;
    constructor(...args: unknown[]) {
      requireType(args, "ErrorEvent");
      super(...args);
      this.#init = dictionary(args[1], "ErrorEvent");
    }
    get message(): string {
      return this.#init.message === undefined ? "" : `${this.#init.message as string}`;
    }
    get filename(): string {
      return this.#init.filename === undefined ? "" : `${this.#init.filename as string}`;
    }
    get lineno(): number {
      return Number(this.#init.lineno ?? 0) >>> 0;
    }
    get colno(): number {
      return Number(this.#init.colno ?? 0) >>> 0;
    }
    get error(): unknown {
      return this.#init.error;
    }
    override get [Symbol.toStringTag](): string {
      return "ErrorEvent";
    }
  }

  class EventTarget extends shim.EventTarget {
    get [Symbol.toStringTag](): string {
      return "EventTarget";
    }
  }

  classes = {
    Event: Event as unknown as Shim["Event"],
    EventTarget: EventTarget as unknown as Shim["EventTarget"],
    CustomEvent: CustomEvent as unknown as Shim["Event"],
    ErrorEvent: ErrorEvent as unknown as Shim["Event"],
  };
  return classes;
}
