/**
 * URL and URLSearchParams come from the WHATWG reference implementation
 * (whatwg-url). Loading it (with tr46's Unicode tables) costs milliseconds
 * per isolate, so it is a separate bundle loaded on first use (runtime/lazy.ts):
 * a script that never touches URLs never pays for it.
 */
import { loadLazy } from "./lazy.js";

type WhatwgUrl = Pick<typeof import("whatwg-url"), "URL" | "URLSearchParams">;

let loaded: WhatwgUrl | null = null;

/** Null until something has used URLs: nothing can be a URLSearchParams before that. */
export function loadedWhatwgUrl(): WhatwgUrl | null {
  return loaded;
}

export function whatwgUrl(): WhatwgUrl {
  loaded ??= loadLazy<WhatwgUrl>("url");
  return loaded;
}
