// biome-ignore-all lint/complexity/noArguments: WebIDL counts the arguments actually passed, and a rest parameter would change each method's `length`.
/**
 * SubtleCrypto: each method converts its arguments as WebIDL does (failures
 * become rejections, never synchronous throws), then hands the operation to
 * the host (`hostStart("crypto", …)`), where Node's WebCrypto runs the spec's
 * algorithm steps, and turns the answer back into CryptoKeys, ArrayBuffers
 * and DOMExceptions of this isolate.
 */
import {
  algorithmIdentifier,
  copyBytes,
  cryptoKey,
  domString,
  keyData,
  keyUsages,
  toArrayBuffer,
} from "./convert.js";
import { deps, domException } from "./deps.js";
import { type CryptoKey, type KeyDescription, makeKey } from "./key.js";

interface HostAnswer {
  key?: KeyDescription;
  pair?: { publicKey: KeyDescription; privateKey: KeyDescription };
  bytes?: Uint8Array;
  boolean?: boolean;
  jwk?: Record<string, unknown>;
  handle?: number;
}

function decode(value: unknown): unknown {
  const answer = (value ?? {}) as HostAnswer;
  if (answer.key !== undefined) return makeKey(answer.key);
  if (answer.pair !== undefined)
    return { publicKey: makeKey(answer.pair.publicKey), privateKey: makeKey(answer.pair.privateKey) };
  if (answer.bytes !== undefined) return toArrayBuffer(answer.bytes);
  if (answer.boolean !== undefined) return answer.boolean;
  if (answer.jwk !== undefined) return answer.jwk;
  return answer.handle;
}

/** The host's `{ name, message }` failure as this isolate's TypeError or DOMException. */
function rethrow(err: unknown): never {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : "The operation failed";
  if (name === "TypeError") throw new TypeError(text);
  throw domException(text, typeof name === "string" ? name : "OperationError");
}

/** Runs one operation on the host. */
export function hostCrypto(method: string, args: unknown[]): Promise<unknown> {
  return deps().hostStart("crypto", { method, args }).promise.then(decode, rethrow);
}

function required(count: number, needed: number, method: string): void {
  if (count < needed)
    throw new TypeError(
      `Failed to execute '${method}' on 'SubtleCrypto': ${needed} arguments required, but only ${count} present.`,
    );
}

/** A promise for `work`: SubtleCrypto reports every failure, conversions included, as a rejection. */
function promised<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

const ILLEGAL = Symbol("illegal");
const KEY_FORMATS = new Set(["raw", "spki", "pkcs8"]);

export class SubtleCrypto {
  constructor(token: unknown = undefined) {
    if (token !== ILLEGAL) throw new TypeError("Illegal constructor");
  }

  encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "encrypt");
      return hostCrypto("encrypt", [
        algorithmIdentifier(algorithm),
        cryptoKey(key, "encrypt", 2),
        copyBytes(data, "data"),
      ]) as Promise<ArrayBuffer>;
    });
  }

  decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "decrypt");
      return hostCrypto("decrypt", [
        algorithmIdentifier(algorithm),
        cryptoKey(key, "decrypt", 2),
        copyBytes(data, "data"),
      ]) as Promise<ArrayBuffer>;
    });
  }

  sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "sign");
      return hostCrypto("sign", [
        algorithmIdentifier(algorithm),
        cryptoKey(key, "sign", 2),
        copyBytes(data, "data"),
      ]) as Promise<ArrayBuffer>;
    });
  }

  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    const count = arguments.length;
    return promised(() => {
      required(count, 4, "verify");
      return hostCrypto("verify", [
        algorithmIdentifier(algorithm),
        cryptoKey(key, "verify", 2),
        copyBytes(signature, "signature"),
        copyBytes(data, "data"),
      ]) as Promise<boolean>;
    });
  }

  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "digest");
      return hostCrypto("digest", [
        algorithmIdentifier(algorithm),
        copyBytes(data, "data"),
      ]) as Promise<ArrayBuffer>;
    });
  }

  generateKey(algorithm: unknown, extractable: unknown, usages: unknown): Promise<unknown> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "generateKey");
      return hostCrypto("generateKey", [
        algorithmIdentifier(algorithm),
        Boolean(extractable),
        keyUsages(usages),
      ]);
    });
  }

  deriveKey(
    algorithm: unknown,
    baseKey: unknown,
    derivedKeyType: unknown,
    extractable: unknown,
    usages: unknown,
  ): Promise<CryptoKey> {
    const count = arguments.length;
    return promised(() => {
      required(count, 5, "deriveKey");
      return hostCrypto("deriveKey", [
        algorithmIdentifier(algorithm),
        cryptoKey(baseKey, "deriveKey", 2),
        algorithmIdentifier(derivedKeyType),
        Boolean(extractable),
        keyUsages(usages),
      ]) as Promise<CryptoKey>;
    });
  }

  deriveBits(algorithm: unknown, baseKey: unknown, length: unknown = null): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "deriveBits");
      const bits = length === null ? null : unsignedLong(length);
      return hostCrypto("deriveBits", [
        algorithmIdentifier(algorithm),
        cryptoKey(baseKey, "deriveBits", 2),
        bits,
      ]) as Promise<ArrayBuffer>;
    });
  }

  importKey(
    format: unknown,
    data: unknown,
    algorithm: unknown,
    extractable: unknown,
    usages: unknown,
  ): Promise<CryptoKey> {
    const count = arguments.length;
    return promised(() => {
      required(count, 5, "importKey");
      const keyFormat = domString(format);
      const material = keyData(data);
      // The spec's step 2, before the algorithm is normalised: the data's kind must match the format.
      const isJwk = !(material instanceof Uint8Array);
      if (keyFormat === "jwk" ? !isJwk : isJwk && KEY_FORMATS.has(keyFormat))
        throw new TypeError(`Key data of the wrong type for the '${keyFormat}' format`);
      return hostCrypto("importKey", [
        keyFormat,
        material,
        algorithmIdentifier(algorithm),
        Boolean(extractable),
        keyUsages(usages),
      ]) as Promise<CryptoKey>;
    });
  }

  exportKey(format: unknown, key: unknown): Promise<unknown> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "exportKey");
      return hostCrypto("exportKey", [domString(format), cryptoKey(key, "exportKey", 2)]);
    });
  }

  wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 4, "wrapKey");
      return hostCrypto("wrapKey", [
        domString(format),
        cryptoKey(key, "wrapKey", 2),
        cryptoKey(wrappingKey, "wrapKey", 3),
        algorithmIdentifier(wrapAlgorithm),
      ]) as Promise<ArrayBuffer>;
    });
  }

  unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: unknown,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    usages: unknown,
  ): Promise<CryptoKey> {
    const count = arguments.length;
    return promised(() => {
      required(count, 7, "unwrapKey");
      return hostCrypto("unwrapKey", [
        domString(format),
        copyBytes(wrappedKey, "wrappedKey"),
        cryptoKey(unwrappingKey, "unwrapKey", 3),
        algorithmIdentifier(unwrapAlgorithm),
        algorithmIdentifier(unwrappedKeyAlgorithm),
        Boolean(extractable),
        keyUsages(usages),
      ]) as Promise<CryptoKey>;
    });
  }

  /** Cloudflare's non-standard constant-time comparison of two equally long buffers. */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    const left = copyBytes(a, "a");
    const right = copyBytes(b, "b");
    if (left.byteLength !== right.byteLength)
      throw new TypeError("Input buffers must have the same byte length.");
    let diff = 0;
    for (let i = 0; i < left.length; i++) diff |= left[i]! ^ right[i]!;
    return diff === 0;
  }

  get [Symbol.toStringTag](): string {
    return "SubtleCrypto";
  }
}

/** WebIDL `unsigned long` (deriveBits' length): ToNumber, truncated, modulo 2^32. */
function unsignedLong(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const truncated = Math.trunc(number) % 2 ** 32;
  return truncated < 0 ? truncated + 2 ** 32 : truncated;
}

export const subtle = new SubtleCrypto(ILLEGAL);
