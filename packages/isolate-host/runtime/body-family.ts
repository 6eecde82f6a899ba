/**
 * The body family (Blob, File, FormData, multipart and urlencoded forms, the
 * cloning tee) lives in a lazily loaded bundle (runtime/lazy/body.ts). This is
 * the core's handle on it: loaded on first use, with the core's streams and
 * UTF-8 codec handed over.
 */
import { loadLazy } from "./lazy.js";
import { webStreams } from "./streams.js";
import { utf8Decode, utf8Encode } from "./text-encoding.js";

export type BodyFamily = typeof import("./lazy/body.js");

let loaded: BodyFamily | null = null;

export function bodyFamily(): BodyFamily {
  if (loaded === null) {
    const family = loadLazy<BodyFamily>("body");
    family.setBodyDeps({ webStreams, utf8Encode, utf8Decode });
    loaded = family;
  }
  return loaded;
}

/** The family if something already loaded it; a Blob or FormData cannot exist before. */
export function loadedBodyFamily(): BodyFamily | null {
  return loaded;
}
