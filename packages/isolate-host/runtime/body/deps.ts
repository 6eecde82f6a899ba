/**
 * What the lazily loaded body family (runtime/lazy/body.ts) takes from the
 * core runtime: it is a separate bundle, so it must not carry its own copy of
 * the streams loader or the UTF-8 codec. The core hands these over once, when
 * it loads the family (runtime/body-family.ts).
 */
import type { ReadableStream } from "../streams.js";

type StreamsPolyfill = typeof import("web-streams-polyfill");

export interface BodyDeps {
  webStreams(): StreamsPolyfill;
  utf8Encode(text: string): Uint8Array;
  utf8Decode(bytes: Uint8Array): string;
}

let deps: BodyDeps | null = null;

export function setBodyDeps(value: BodyDeps): void {
  deps ??= value;
}

function current(): BodyDeps {
  if (deps === null) throw new Error("The body family was loaded without its dependencies");
  return deps;
}

export function webStreams(): StreamsPolyfill {
  return current().webStreams();
}

export function utf8Encode(text: string): Uint8Array {
  return current().utf8Encode(text);
}

export function utf8Decode(bytes: Uint8Array): string {
  return current().utf8Decode(bytes);
}

export type { ReadableStream };
