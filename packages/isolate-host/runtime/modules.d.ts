/** esbuild turns these into lazily evaluated bundled modules. */
declare function require(id: "event-target-shim"): typeof import("event-target-shim");

/** The slice of event-target-shim's API the runtime uses (its typings are not reachable through its exports map). */
declare module "event-target-shim" {
  export function setErrorHandler(handler: ((error: Error) => void) | undefined): void;
  export function setWarningHandler(handler: ((warning: unknown) => void) | undefined): void;
  export class Event {
    constructor(type: string, init?: { bubbles?: boolean; cancelable?: boolean; composed?: boolean });
    readonly type: string;
  }
  export class EventTarget {
    addEventListener(type: string, listener: unknown, options?: unknown): void;
    removeEventListener(type: string, listener: unknown, options?: unknown): void;
    dispatchEvent(event: Event): boolean;
  }
}
