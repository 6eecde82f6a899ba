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
    return Response.json({ body, q: url.searchParams.get("q") }, { status: 201, headers: { "x-b": "c" } });
  } } };
  const request = { method: "POST", url: "https://example.com/a?b=1", headers: [["content-type", "application/json"]],
    body: new TextEncoder().encode('{"a":1}') };
  await entry.validate(module);
  return JSON.stringify(await entry.dispatch(module, request, { A: "a" }));
})()
`;

const WARM_UP_CONTEXT: HostOpContext = { charge() {} };

interface Code {
  source: string;
  filename: string;
  cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
}

/**
 * The runtime bundles plus their V8 code caches. Each fresh isolate compiles
 * the core from its cache and runs it (instead of a V8 startup snapshot, which
 * is unusable with isolated-vm 5 on Node 20: see README); the lazy parts are
 * compiled and run in an isolate only when its request first needs them.
 */
export class RuntimeCode {
  readonly #core: Code;
  readonly #lazy: ReadonlyMap<string, Code>;

  private constructor(core: Code, lazy: ReadonlyMap<string, Code>) {
    this.#core = core;
    this.#lazy = lazy;
  }

  /** Loads the bundles and builds their warm code caches in a throwaway isolate. */
  static async create(logger: Logger): Promise<RuntimeCode> {
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
      logger.debug(
        { ms: Math.round(performance.now() - started), coreBytes: bundle.core.length },
        "runtime code caches built",
      );
      return new RuntimeCode(core, lazy);
    } catch (err) {
      // A runtime that cannot warm up cannot serve requests either: surface it.
      throw new Error("isolate-host runtime failed to load in an isolate", { cause: err });
    } finally {
      isolate.dispose();
    }
  }

  /** Installs the runtime's globals into a fresh context. */
  async install(isolate: ivm.Isolate, context: ivm.Context): Promise<void> {
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
    this.#core.cachedData?.release();
    for (const code of this.#lazy.values()) code.cachedData?.release();
  }
}

function options(code: Code): ivm.ScriptOrigin & ivm.CachedDataOptions {
  return code.cachedData === undefined
    ? { filename: code.filename }
    : { filename: code.filename, cachedData: code.cachedData };
}
