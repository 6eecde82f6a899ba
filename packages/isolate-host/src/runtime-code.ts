import ivm from "isolated-vm";
import type { Logger } from "pino";
import { RUNTIME_FILENAME, readRuntimeBundle } from "./runtime-bundle.js";

/**
 * Exercises the runtime's common paths once, so the functions they compile are
 * in the V8 code cache that every fresh isolate then loads instead of
 * compiling them again on its first request.
 */
const WARM_UP = `
(async () => {
  const entry = globalThis.__edgeInit(() => true);
  const module = { default: { async fetch(request, env, ctx) {
    const url = new URL(request.url);
    url.searchParams.set("q", "1");
    const body = await request.json();
    const headers = new Headers(request.headers);
    headers.append("x-a", "b");
    globalThis.console.log("warm", url.pathname, [...headers].length, env.A); // the isolate's console, warmed up
    ctx.waitUntil(Promise.resolve());
    new TextDecoder().decode(new TextEncoder().encode("é€"));
    await new Response("text").text();
    new Request("https://example.com/", { method: "POST", body: "x" });
    return Response.json({ body, q: url.searchParams.get("q") }, { status: 201, headers: { "x-b": "c" } });
  } } };
  const request = { method: "POST", url: "https://example.com/a?b=1", headers: [["content-type", "application/json"]],
    body: new TextEncoder().encode('{"a":1}') };
  await entry.validate(module);
  return JSON.stringify(await entry.dispatch(module, request, { A: "a" }));
})()
`;

/**
 * The runtime bundle plus its V8 code cache. Each fresh isolate compiles the
 * bundle from the cache and runs it (instead of a V8 startup snapshot, which is
 * unusable with isolated-vm 5 on Node 20: see README).
 */
export class RuntimeCode {
  readonly #source: string;
  readonly #cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;

  private constructor(source: string, cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined) {
    this.#source = source;
    this.#cachedData = cachedData;
  }

  /** Loads the bundle and builds its warm code cache in a throwaway isolate. */
  static async create(logger: Logger): Promise<RuntimeCode> {
    const source = readRuntimeBundle();
    const started = performance.now();
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    try {
      const context = await isolate.createContext();
      const script = await isolate.compileScript(source, { filename: RUNTIME_FILENAME });
      await script.run(context);
      await context.eval(WARM_UP, { promise: true, timeout: 5_000 });
      // Compiling the same source again hits V8's per-isolate compilation
      // cache, so the produced data includes every function warmed up above.
      const warm = await isolate.compileScript(source, {
        filename: RUNTIME_FILENAME,
        produceCachedData: true,
      });
      logger.debug(
        { ms: Math.round(performance.now() - started), bundleBytes: source.length },
        "runtime code cache built",
      );
      return new RuntimeCode(source, (warm as ivm.Script & ivm.CachedDataResult).cachedData);
    } catch (err) {
      // A runtime that cannot warm up cannot serve requests either: surface it.
      throw new Error("isolate-host runtime failed to load in an isolate", { cause: err });
    } finally {
      isolate.dispose();
    }
  }

  /** Installs the runtime's globals into a fresh context. */
  async install(isolate: ivm.Isolate, context: ivm.Context): Promise<void> {
    const script = await isolate.compileScript(this.#source, {
      filename: RUNTIME_FILENAME,
      ...(this.#cachedData === undefined ? {} : { cachedData: this.#cachedData }),
    });
    await script.run(context, { release: true });
  }

  release(): void {
    this.#cachedData?.release();
  }
}
