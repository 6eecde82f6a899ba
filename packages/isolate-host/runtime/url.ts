/**
 * URL and URLSearchParams come from the WHATWG reference implementation
 * (whatwg-url), bundled in. Loading it (with tr46's Unicode tables) costs
 * milliseconds per isolate, so it is loaded on first use: a script that never
 * touches URLs never pays for it.
 */
type WhatwgUrl = typeof import("whatwg-url");

let loaded: WhatwgUrl | null = null;

/** Null until something has used URLs: nothing can be a URLSearchParams before that. */
export function loadedWhatwgUrl(): WhatwgUrl | null {
  return loaded;
}

export function whatwgUrl(): WhatwgUrl {
  loaded ??= require("whatwg-url");
  return loaded;
}
