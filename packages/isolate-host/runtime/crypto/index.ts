/**
 * `crypto` (the Crypto interface): getRandomValues and randomUUID in the
 * core; SubtleCrypto, CryptoKey and Cloudflare's DigestStream in a part
 * loaded on first use (runtime/lazy/crypto.ts), most requests never touching
 * them.
 */
import { DOMException } from "../dom-exception.js";
import { hostStart } from "../host.js";
import { loadLazy } from "../lazy.js";
import { webStreams } from "../streams.js";
import { TextEncoder } from "../text-encoding.js";
import type { CryptoDeps } from "./deps.js";
import type { CryptoKey as CryptoKeyClass } from "./key.js";
import { getRandomValues, randomUUID } from "./random.js";
import type { SubtleCrypto as SubtleCryptoClass } from "./subtle.js";

export interface CryptoPart {
  install(deps: CryptoDeps): void;
  subtle: SubtleCryptoClass;
  SubtleCrypto: typeof SubtleCryptoClass;
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

const ILLEGAL = Symbol("illegal");

export class Crypto {
  constructor(token: unknown = undefined) {
    if (token !== ILLEGAL) throw new TypeError("Illegal constructor");
  }

  getRandomValues<T>(array: T): T {
    // biome-ignore lint/complexity/noArguments: WebIDL's argument count, keeping `length` 1
    if (arguments.length < 1)
      throw new TypeError(
        "Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.",
      );
    return getRandomValues(array);
  }

  randomUUID(): string {
    return randomUUID();
  }

  get subtle(): SubtleCryptoClass {
    return cryptoPart().subtle;
  }

  /** Cloudflare's `crypto.DigestStream`. */
  get DigestStream(): unknown {
    return cryptoPart().digestStreamClass();
  }

  get [Symbol.toStringTag](): string {
    return "Crypto";
  }
}

export const crypto = new Crypto(ILLEGAL);
