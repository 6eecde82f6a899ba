/**
 * `crypto` (the Crypto interface): getRandomValues, randomUUID and
 * `subtle.digest` in the core; the rest of SubtleCrypto, CryptoKey and
 * Cloudflare's DigestStream in a part loaded on first use
 * (runtime/lazy/crypto.ts), most requests never touching them.
 */
import { cryptoPart } from "./part.js";
import { getRandomValues, randomUUID } from "./random.js";
import { subtle as coreSubtle, type SubtleCrypto as SubtleCryptoClass } from "./subtle-core.js";

const ILLEGAL = Symbol("illegal");

export { cryptoPart };

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
    return coreSubtle;
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
