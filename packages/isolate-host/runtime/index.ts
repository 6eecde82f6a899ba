/**
 * Entry of the in-isolate runtime bundle (runtime-dist/runtime.js), run once
 * in every fresh isolate before the script's module. It installs the web
 * globals scripts see and leaves `__edgeInit` for the host, which calls it
 * (it deletes itself) before the script can run.
 */

import { console, type LogSink, setLogSink } from "./console.js";
import { dispatch, validate } from "./dispatch.js";
import { Headers } from "./headers.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { TextDecoder, TextEncoder } from "./text-encoding.js";
import { whatwgUrl } from "./url.js";

function defineGlobal(name: string, value: unknown): void {
  // As WebIDL installs interfaces: writable, configurable, not enumerable.
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** URL classes load whatwg-url on first touch, then become plain globals. */
function defineLazyUrlGlobal(name: "URL" | "URLSearchParams"): void {
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: false,
    get() {
      const value = whatwgUrl()[name];
      defineGlobal(name, value);
      return value;
    },
    set(value: unknown) {
      defineGlobal(name, value);
    },
  });
}

defineGlobal("Headers", Headers);
defineGlobal("Request", Request);
defineGlobal("Response", Response);
defineGlobal("TextEncoder", TextEncoder);
defineGlobal("TextDecoder", TextDecoder);
defineGlobal("console", console);
defineLazyUrlGlobal("URL");
defineLazyUrlGlobal("URLSearchParams");

export interface RuntimeEntry {
  dispatch: typeof dispatch;
  validate: typeof validate;
}

Object.defineProperty(globalThis, "__edgeInit", {
  configurable: true,
  enumerable: false,
  writable: false,
  value: (log: LogSink): RuntimeEntry => {
    delete (globalThis as Record<string, unknown>).__edgeInit;
    setLogSink(log);
    return { dispatch, validate };
  },
});
