import ivm from "isolated-vm";
import type { Logger } from "pino";
import type { HostOpContext } from "./host/op.js";
import { PURE_HOST_OPS } from "./host/table.js";
import { callHostOp, hostError } from "./host-bridge.js";
import { LAZY_PARTS, lazyFilename, RUNTIME_FILENAME, readRuntimeBundle } from "./runtime-bundle.js";

/**
 * Exercises the runtime's common paths once, so the functions they compile are
 * in the V8 code caches that every fresh isolate then loads instead of
 * compiling them again on its first request. `__edgeInit` takes the lazy
 * loader as its fourth argument (here the throwaway isolate's `__load`).
 */
const WARM_UP = `
(async () => {
  const entry = globalThis.__edgeInit(() => true, globalThis.__call, undefined, globalThis.__load);
  const module = { default: { async fetch(request, env, ctx) {
    const url = new URL(request.url);
    url.searchParams.set("q", "1");
    const body = await request.json();
    const headers = new Headers(request.headers);
    headers.append("x-a", "b");
    globalThis.console.log("warm", url.pathname, [...headers].length, env.A); // the isolate's console, warmed up
    ctx.waitUntil(Promise.resolve());
    new TextDecoder().decode(new TextEncoder().encode("é€"));
    new URL("/a b?c=d", "https://example.com/").searchParams.get("c"); // the host's parser, a pure operation
    structuredClone({ a: [1, new Date(0)], m: new Map([[1, "x"]]) });
    const target = new EventTarget();
    target.addEventListener("x", (e) => e.detail);
    target.dispatchEvent(new CustomEvent("x", { detail: 1 }));
    await new Response("text").text();
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("s")); c.close(); } });
    await new Response(stream.pipeThrough(new TransformStream())).text();
    new Request("https://example.com/", { method: "POST", body: "x" });
    const form = new FormData();
    form.append("a", new Blob(["b"], { type: "text/plain" }), "b.txt");
    await new Response(form).formData();
    // Converts the arguments, then fails here (no host): compiles the crypto part's common path.
    await crypto.subtle.importKey("raw", new Uint8Array(16), { name: "AES-GCM" }, false, ["encrypt"]).catch(() => {});
    await crypto.subtle.digest("SHA-256", new Uint8Array(1)).catch(() => {});
    return Response.json({ body, q: url.searchParams.get("q") }, { status: 201, headers: { "x-b": "c" } });
  } } };
  const request = { method: "POST", url: "https://example.com/a?b=1", headers: [["content-type", "application/json"]],
    body: new TextEncoder().encode('{"a":1}') };
  await entry.validate(module);
  return JSON.stringify(await entry.dispatch(module, request, { A: "a" }));
})()
`;

/**
 * Run while V8 builds the startup snapshot, in a throwaway context: compiles
 * the runtime's request path (Request, Headers, a JSON body, Response.json) so
 * that its functions are in the snapshot already compiled. There is no host
 * there: nothing it does can reach a request, and nothing of its context is kept.
 */
const SNAPSHOT_WARM_UP = `
(() => {
  const noHost = () => { throw new Error("no host while building the snapshot"); };
  const entry = globalThis.__edgeInit(() => true, noHost, () => {}, noHost);
  void entry.rehearse().catch(() => {});
})();
`;
const WARM_UP_CONTEXT: HostOpContext = { charge() {} };

interface Code {
  source: string;
  filename: string;
  cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
}

/**
 * The runtime bundles, a V8 startup snapshot of the core and the V8 code
 * caches. A fresh isolate starts from the snapshot, so its context already
 * holds the core's globals (and `__edgeInit`, which each isolate's host then
 * takes); without a snapshot (`snapshot: false`, or a V8 that cannot build
 * one) it compiles the core from its code cache and runs it. The lazy parts
 * are compiled from their code caches and run in an isolate only when its
 * request first needs them.
 */
/** How many isolates RuntimeCode tracks before it first sweeps out the disposed ones. */
const ISOLATES_SWEEP_MIN = 64;

export class RuntimeCode {
  readonly #core: Code;
  readonly #lazy: ReadonlyMap<string, Code>;
  readonly #snapshot: ivm.ExternalCopy<ArrayBuffer> | undefined;
  /** Every isolate newIsolate() made that may not be disposed yet (disposed ones are swept out as more are made). */
  #isolates = new Set<ivm.Isolate>();
  #sweepAt = ISOLATES_SWEEP_MIN;

  private constructor(core: Code, lazy: ReadonlyMap<string, Code>, snapshot?: ivm.ExternalCopy<ArrayBuffer>) {
    this.#core = core;
    this.#lazy = lazy;
    this.#snapshot = snapshot;
  }

  /** True when isolates start from the runtime's snapshot (the core is then already in their context). */
  get snapshotted(): boolean {
    return this.#snapshot !== undefined;
  }

  /** A new isolate: from the runtime's snapshot when there is one. */
  newIsolate(options: Omit<ivm.IsolateOptions, "snapshot">): ivm.Isolate {
    const isolate = new ivm.Isolate(
      this.#snapshot === undefined ? options : { ...options, snapshot: this.#snapshot },
    );
    if (this.#isolates.size >= this.#sweepAt) {
      this.#isolates = new Set([...this.#isolates].filter((made) => !made.isDisposed));
      this.#sweepAt = Math.max(ISOLATES_SWEEP_MIN, this.#isolates.size * 2);
    }
    this.#isolates.add(isolate);
    return isolate;
  }

  /**
   * Disposes every isolate newIsolate() made that is still alive, whatever it
   * is doing: its pending operations reject. A thread must not end with an
   * isolate alive or still being built (isolated-vm then hangs or aborts the
   * process as the thread tears down).
   */
  disposeIsolates(): void {
    for (const isolate of this.#isolates) if (!isolate.isDisposed) isolate.dispose();
    this.#isolates.clear();
  }

  /**
   * Loads the bundles, builds their warm code caches in a throwaway isolate and,
   * with `snapshot`, a startup snapshot of the core.
   */
  static async create(logger: Logger, snapshot = true): Promise<RuntimeCode> {
    const bundle = readRuntimeBundle();
    const started = performance.now();
    const cold = new RuntimeCode(
      { source: bundle.core, filename: RUNTIME_FILENAME, cachedData: undefined },
      new Map(
        LAZY_PARTS.map((part) => [
          part,
          { source: bundle.lazy[part], filename: lazyFilename(part), cachedData: undefined },
        ]),
      ),
    );
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    try {
      const context = await isolate.createContext();
      await cold.install(isolate, context);
      await context.global.set("__load", cold.loader(isolate, context));
      // Only the pure host operations (URL parsing) are there for the warm-up: no request exists.
      await context.global.set(
        "__call",
        new ivm.Callback((op: unknown, a: unknown, b: unknown, c: unknown) => {
          if (typeof op !== "string" || !PURE_HOST_OPS.has(op))
            throw hostError("The host is not available here");
          return callHostOp(WARM_UP_CONTEXT, op, a, b, c);
        }),
      );
      const outcome = JSON.parse(await context.eval(WARM_UP, { promise: true, timeout: 5_000 })) as {
        ok?: unknown;
      };
      if (outcome.ok !== true)
        throw new Error(`the runtime's warm-up request failed: ${JSON.stringify(outcome)}`);
      // Compiling the same source again hits V8's per-isolate compilation
      // cache, so the produced data includes every function warmed up above.
      const warm = async (code: Code): Promise<Code> => {
        const script = await isolate.compileScript(code.source, {
          filename: code.filename,
          produceCachedData: true,
        });
        return { ...code, cachedData: (script as ivm.Script & ivm.CachedDataResult).cachedData };
      };
      const core = await warm(cold.#core);
      const lazy = new Map<string, Code>();
      for (const [part, code] of cold.#lazy) lazy.set(part, await warm(code));
      const blob = snapshot ? buildSnapshot(bundle.core, logger) : undefined;
      logger.debug(
        {
          ms: Math.round(performance.now() - started),
          coreBytes: bundle.core.length,
          snapshotBytes: blob?.copy().byteLength ?? 0,
        },
        "runtime code caches built",
      );
      return new RuntimeCode(core, lazy, blob);
    } catch (err) {
      // A runtime that cannot warm up cannot serve requests either: surface it.
      throw new Error("isolate-host runtime failed to load in an isolate", { cause: err });
    } finally {
      isolate.dispose();
    }
  }

  /** Installs the runtime's globals into a fresh context (already there in an isolate started from the snapshot). */
  async install(isolate: ivm.Isolate, context: ivm.Context): Promise<void> {
    if (this.#snapshot !== undefined) return;
    const script = await isolate.compileScript(this.#core.source, options(this.#core));
    await script.run(context, { release: true });
  }

  /**
   * The runtime's lazy loader for one isolate (the fourth argument of
   * `__edgeInit`): runs the named part in the isolate, synchronously while the
   * isolate waits, and hands back its exports. A plain function inside the
   * isolate; only names of known parts load anything. `loaded(ms)` learns how
   * long each load took: the runtime's time, not the script's.
   */
  loader(isolate: ivm.Isolate, context: ivm.Context, loaded?: (ms: number) => void): ivm.Callback {
    return new ivm.Callback((name: unknown) => {
      const code = typeof name === "string" ? this.#lazy.get(name) : undefined;
      if (code === undefined) throw new Error(`No runtime part named ${String(name)}`);
      const started = performance.now();
      try {
        const script = isolate.compileScriptSync(code.source, options(code));
        return script.runSync(context, { reference: true, release: true }).derefInto();
      } finally {
        loaded?.(performance.now() - started);
      }
    });
  }

  release(): void {
    this.#snapshot?.release();
    this.#core.cachedData?.release();
    for (const code of this.#lazy.values()) code.cachedData?.release();
  }
}

/**
 * A V8 startup snapshot holding the runtime core, evaluated with no host
 * attached; null (code caches only) when this V8 cannot build a usable one.
 * Its contents are the runtime's own: no script and no request ever ran in it.
 */
function buildSnapshot(core: string, logger: Logger): ivm.ExternalCopy<ArrayBuffer> | undefined {
  try {
    const blob = ivm.Isolate.createSnapshot([{ code: core, filename: RUNTIME_FILENAME }], SNAPSHOT_WARM_UP);
    // A snapshot that does not restore the runtime is worse than none.
    const probe = new ivm.Isolate({ memoryLimit: 64, snapshot: blob });
    try {
      const ok = probe
        .createContextSync()
        .evalSync(`typeof __edgeInit === "function" && typeof Headers === "function"`);
      if (ok !== true) throw new Error("the snapshot does not restore the runtime");
    } finally {
      probe.dispose();
    }
    return blob;
  } catch (err) {
    logger.warn({ err }, "runtime snapshot unavailable; isolates load the runtime from its code cache");
    return undefined;
  }
}

function options(code: Code): ivm.ScriptOrigin & ivm.CachedDataOptions {
  return code.cachedData === undefined
    ? { filename: code.filename }
    : { filename: code.filename, cachedData: code.cachedData };
}
