/**
 * Parts of the runtime kept out of the bundle every isolate loads: each is a
 * separate script, compiled from its own V8 code cache by the host the first
 * time a request needs it (see src/runtime-code.ts). A script that never uses
 * URLs or streams never pays for them.
 */

export type LazyName = "streams" | "body" | "crypto" | "encoding" | "encoding-cjk" | "urlpattern";
export type LazyLoad = (name: LazyName) => unknown;

// Captured while the runtime loads, before any script code exists.
const reflectApply = Reflect.apply;

let loader: LazyLoad | null = null;

export function setLazyLoader(load: LazyLoad): void {
  loader = load;
}

/** Runs the named bundle in this isolate and returns its exports. */
export function loadLazy<T>(name: LazyName): T {
  if (loader === null) throw new Error(`The runtime part '${name}' cannot be loaded here`);
  return reflectApply(loader, undefined, [name]) as T;
}
