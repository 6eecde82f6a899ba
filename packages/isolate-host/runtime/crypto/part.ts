/**
 * The lazily loaded crypto part (runtime/lazy/crypto.ts), loaded and given
 * the core's host channel on first use.
 */
import { DOMException } from "../dom-exception.js";
import { hostStart } from "../host.js";
import { loadLazy } from "../lazy.js";
import { webStreams } from "../streams.js";
import { TextEncoder } from "../text-encoding.js";
import type { CryptoDeps } from "./deps.js";
import type { CryptoKey as CryptoKeyClass } from "./key.js";

export interface CryptoPart {
  install(deps: CryptoDeps): void;
  /** The part's SubtleCrypto methods, which the core's SubtleCrypto forwards to. */
  subtle: Record<string, (...args: unknown[]) => Promise<unknown>>;
  CryptoKey: typeof CryptoKeyClass;
  digestStreamClass(): unknown;
}

let part: CryptoPart | null = null;
const utf8 = new TextEncoder();

export function cryptoPart(): CryptoPart {
  if (part === null) {
    const loaded = loadLazy<CryptoPart>("crypto");
    loaded.install({
      hostStart,
      DOMException,
      encodeUtf8: (text) => utf8.encode(text),
      writableStream: () =>
        webStreams().WritableStream as unknown as ReturnType<CryptoDeps["writableStream"]>,
    });
    part = loaded;
  }
  return part;
}
