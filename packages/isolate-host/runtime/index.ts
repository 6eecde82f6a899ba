/**
 * Entry of the in-isolate runtime bundle (runtime-dist/runtime.js), run once
 * in every fresh isolate before the script's module. It installs the web
 * globals scripts see and leaves `__edgeInit` for the host, which calls it
 * (it deletes itself) before the script can run.
 */

import { runState } from "./admission/run-state.js";
import { atob, btoa } from "./base64.js";
import { bodyFamily } from "./body-family.js";
import { Cache, CacheStorage, caches } from "./cache/cache.js";
import { CompressionStream, DecompressionStream } from "./compression/streams.js";
import { console, type LogSink, setLogSink } from "./console.js";
import { Crypto, crypto, cryptoPart } from "./crypto/index.js";
import { SubtleCrypto } from "./crypto/subtle-core.js";
import { cancel, dispatch, pull, rehearse, settle, validate } from "./dispatch.js";
import { DOMException } from "./dom-exception.js";
import { TextDecoderStream, TextEncoderStream } from "./encoding/streams.js";
import { eventClasses } from "./events/classes.js";
import { reportError } from "./events/report-error.js";
import { abortApi, eventTargetShimLoading } from "./events.js";
import { fetch } from "./fetch.js";
import { Headers } from "./headers.js";
import { complete, type HostCall, type HostPost, setHost } from "./host.js";
import { type LazyLoad, loadLazy, setLazyLoader } from "./lazy.js";
import { moduleEvaluating, whenEvaluated } from "./module-evaluation.js";
import { navigator, performance } from "./performance.js";
import { QuotaExceededError } from "./quota-exceeded-error.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { scheduled } from "./scheduled.js";
import { scheduler } from "./scheduler.js";
import { webStreams } from "./streams.js";
import { structuredClone } from "./structured-clone.js";
import { TextDecoder, TextEncoder } from "./text-encoding.js";
import { clearInterval, clearTimeout, fire, queueMicrotask, setInterval, setTimeout } from "./timers.js";
import { URL, URLSearchParams } from "./url.js";
import { installWasmMemoryCap } from "./wasm/memory-cap.js";

function defineGlobal(name: string, value: unknown): void {
  // esbuild names a class with a static block `_Name` inside; interfaces keep their spec name.
  if (typeof value === "function" && value.name === `_${name}`)
    Object.defineProperty(value, "name", { value: name, configurable: true });
  // As WebIDL installs interfaces: writable, configurable, not enumerable.
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * A global whose implementation loads on first touch, then becomes a plain
 * global. A loader returning undefined means "not yet" (read during its own loading).
 */
function defineLazyGlobal(name: string, load: () => unknown): void {
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: false,
    get() {
      const value = load();
      if (value !== undefined) defineGlobal(name, value);
      return value;
    },
    set(value: unknown) {
      defineGlobal(name, value);
    },
  });
}

const eager: Record<string, unknown> = {
  Headers,
  Request,
  Response,
  TextEncoder,
  TextDecoder,
  TextEncoderStream,
  TextDecoderStream,
  CompressionStream,
  DecompressionStream,
  URL,
  URLSearchParams,
  console,
  atob,
  btoa,
  structuredClone,
  DOMException,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  queueMicrotask,
  reportError,
  scheduler,
  performance,
  navigator,
  crypto,
  Crypto,
  SubtleCrypto,
  QuotaExceededError,
  fetch,
  caches,
  Cache,
  CacheStorage,
  self: globalThis,
};
for (const [name, value] of Object.entries(eager)) defineGlobal(name, value);

for (const name of [
  "ReadableStream",
  "ReadableStreamDefaultReader",
  "ReadableStreamBYOBReader",
  "ReadableStreamDefaultController",
  "ReadableByteStreamController",
  "WritableStream",
  "WritableStreamDefaultWriter",
  "WritableStreamDefaultController",
  "TransformStream",
  "TransformStreamDefaultController",
  "ByteLengthQueuingStrategy",
  "CountQueuingStrategy",
] as const) {
  defineLazyGlobal(name, () => webStreams()[name]);
}
for (const name of ["Blob", "File", "FormData"] as const) defineLazyGlobal(name, () => bodyFamily()[name]);
for (const name of ["Event", "EventTarget", "CustomEvent", "ErrorEvent"] as const) {
  defineLazyGlobal(name, () => (eventTargetShimLoading() ? undefined : eventClasses()[name]));
}
defineLazyGlobal("CryptoKey", () => cryptoPart().CryptoKey);
defineLazyGlobal("URLPattern", () => loadLazy<{ URLPattern: unknown }>("urlpattern").URLPattern);
for (const name of ["AbortController", "AbortSignal"] as const)
  defineLazyGlobal(name, () => abortApi()[name]);

export interface RuntimeEntry {
  dispatch: typeof dispatch;
  rehearse: typeof rehearse;
  validate: typeof validate;
  pull: typeof pull;
  cancel: typeof cancel;
  settle: typeof settle;
  complete: typeof complete;
  fire: typeof fire;
  moduleEvaluating: typeof moduleEvaluating;
  whenEvaluated: typeof whenEvaluated;
  runState: typeof runState;
  scheduled: typeof scheduled;
}

Object.defineProperty(globalThis, "__edgeInit", {
  configurable: true,
  enumerable: false,
  writable: false,
  value: (log: LogSink, call: HostCall, post: HostPost, load: LazyLoad): RuntimeEntry => {
    delete (globalThis as Record<string, unknown>).__edgeInit;
    setLogSink(log);
    setHost(call, post);
    setLazyLoader(load);
    // Here, not when the runtime loads: V8 installs a fresh WebAssembly namespace in every
    // context, also one restored from the runtime's startup snapshot, after the snapshot's code.
    installWasmMemoryCap();
    return {
      dispatch,
      rehearse,
      validate,
      pull,
      cancel,
      settle,
      complete,
      fire,
      moduleEvaluating,
      whenEvaluated,
      runState,
      scheduled,
    };
  },
});
