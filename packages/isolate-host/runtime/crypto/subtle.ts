// biome-ignore-all lint/complexity/noArguments: WebIDL counts the arguments actually passed, and a rest parameter would change each method's `length`.
/**
 * SubtleCrypto: each method converts its arguments as WebIDL does (failures
 * become rejections, never synchronous throws), then hands the operation to
 * the host (`hostStart("crypto", …)`), where Node's WebCrypto runs the spec's
 * algorithm steps, and turns the answer back into CryptoKeys, ArrayBuffers
 * and DOMExceptions of this isolate.
 */
import { copyBytes, cryptoKey, keyData, keyFormat, keyUsages, toArrayBuffer } from "./convert.js";
import { deps, domException } from "./deps.js";
import { type CryptoKey, type KeyDescription, makeKey } from "./key.js";
import { checkKeyGenParameters, normalizeAlgorithm, normalizeWrapAlgorithm } from "./normalize.js";

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

/**
 * Each method converts its WebIDL arguments (TypeError), then normalizes its
 * algorithms (NotSupportedError, TypeError): failures so far reject the
 * returned promise at once. Everything after (usages, key type, key data,
 * the operation itself) is checked on the host and rejects later.
 */
export class SubtleCrypto {
  constructor(token: unknown = undefined) {
    if (token !== ILLEGAL) throw new TypeError("Illegal constructor");
  }

  encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "encrypt");
      const handle = cryptoKey(key, "encrypt", 2);
      const bytes = copyBytes(data, "data");
      return hostCrypto("encrypt", [
        normalizeAlgorithm("encrypt", algorithm),
        handle,
        bytes,
      ]) as Promise<ArrayBuffer>;
    });
  }

  decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "decrypt");
      const handle = cryptoKey(key, "decrypt", 2);
      const bytes = copyBytes(data, "data");
      return hostCrypto("decrypt", [
        normalizeAlgorithm("decrypt", algorithm),
        handle,
        bytes,
      ]) as Promise<ArrayBuffer>;
    });
  }

  sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "sign");
      const handle = cryptoKey(key, "sign", 2);
      const bytes = copyBytes(data, "data");
      return hostCrypto("sign", [
        normalizeAlgorithm("sign", algorithm),
        handle,
        bytes,
      ]) as Promise<ArrayBuffer>;
    });
  }

  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    const count = arguments.length;
    return promised(() => {
      required(count, 4, "verify");
      const handle = cryptoKey(key, "verify", 2);
      const signatureBytes = copyBytes(signature, "signature");
      const bytes = copyBytes(data, "data");
      const normalized = normalizeAlgorithm("verify", algorithm);
      return hostCrypto("verify", [normalized, handle, signatureBytes, bytes]) as Promise<boolean>;
    });
  }

  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "digest");
      const bytes = copyBytes(data, "data");
      return hostCrypto("digest", [digestAlgorithm(algorithm), bytes]) as Promise<ArrayBuffer>;
    });
  }

  generateKey(algorithm: unknown, extractable: unknown, usages: unknown): Promise<unknown> {
    const count = arguments.length;
    return promised(() => {
      required(count, 3, "generateKey");
      const keyExtractable = Boolean(extractable);
      const keyUsageList = keyUsages(usages);
      const normalized = normalizeAlgorithm("generateKey", algorithm);
      checkKeyGenParameters(normalized);
      return hostCrypto("generateKey", [normalized, keyExtractable, keyUsageList]);
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
      const handle = cryptoKey(baseKey, "deriveKey", 2);
      const keyExtractable = Boolean(extractable);
      const keyUsageList = keyUsages(usages);
      const normalized = normalizeAlgorithm("deriveBits", algorithm);
      const derivedImport = normalizeAlgorithm("importKey", derivedKeyType);
      const derivedLength = normalizeAlgorithm("get key length", derivedKeyType);
      const derived = { ...derivedImport, ...derivedLength };
      return hostCrypto("deriveKey", [
        normalized,
        handle,
        derived,
        keyExtractable,
        keyUsageList,
      ]) as Promise<CryptoKey>;
    });
  }

  deriveBits(algorithm: unknown, baseKey: unknown, length: unknown = null): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "deriveBits");
      const handle = cryptoKey(baseKey, "deriveBits", 2);
      const bits = length === null ? null : unsignedLong(length);
      const normalized = normalizeAlgorithm("deriveBits", algorithm);
      return hostCrypto("deriveBits", [normalized, handle, bits]) as Promise<ArrayBuffer>;
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
      const formatName = keyFormat(format);
      const material = keyData(data);
      const keyExtractable = Boolean(extractable);
      const keyUsageList = keyUsages(usages);
      // Before the algorithm is normalized: the data's kind must match the format.
      const isJwk = !(material instanceof Uint8Array);
      if (formatName === "jwk" ? !isJwk : isJwk)
        throw new TypeError(`Key data of the wrong type for the '${formatName}' format`);
      const normalized = normalizeAlgorithm("importKey", algorithm);
      return hostCrypto("importKey", [
        formatName,
        material,
        normalized,
        keyExtractable,
        keyUsageList,
      ]) as Promise<CryptoKey>;
    });
  }

  exportKey(format: unknown, key: unknown): Promise<unknown> {
    const count = arguments.length;
    return promised(() => {
      required(count, 2, "exportKey");
      return hostCrypto("exportKey", [keyFormat(format), cryptoKey(key, "exportKey", 2)]);
    });
  }

  wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return promised(() => {
      required(count, 4, "wrapKey");
      const formatName = keyFormat(format);
      const handle = cryptoKey(key, "wrapKey", 2);
      const wrappingHandle = cryptoKey(wrappingKey, "wrapKey", 3);
      const normalized = normalizeWrapAlgorithm("wrapKey", wrapAlgorithm);
      return hostCrypto("wrapKey", [formatName, handle, wrappingHandle, normalized]) as Promise<ArrayBuffer>;
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
      const formatName = keyFormat(format);
      const bytes = copyBytes(wrappedKey, "wrappedKey");
      const handle = cryptoKey(unwrappingKey, "unwrapKey", 3);
      const keyExtractable = Boolean(extractable);
      const keyUsageList = keyUsages(usages);
      const normalized = normalizeWrapAlgorithm("unwrapKey", unwrapAlgorithm);
      const keyAlgorithm = normalizeAlgorithm("importKey", unwrappedKeyAlgorithm);
      return hostCrypto("unwrapKey", [
        formatName,
        bytes,
        handle,
        normalized,
        keyAlgorithm,
        keyExtractable,
        keyUsageList,
      ]) as Promise<CryptoKey>;
    });
  }

  get [Symbol.toStringTag](): string {
    return "SubtleCrypto";
  }
}

/** digest's algorithm; Cloudflare also offers MD5 there (not as the hash of other algorithms). */
function digestAlgorithm(algorithm: unknown): Record<string, unknown> {
  const name =
    typeof algorithm === "object" && algorithm !== null ? (algorithm as { name?: unknown }).name : algorithm;
  if (typeof name === "string" && name.toUpperCase() === "MD5") return { name: "MD5" };
  return normalizeAlgorithm("digest", algorithm);
}

/** WebIDL `unsigned long` (deriveBits' length): ToNumber, truncated, modulo 2^32. */
function unsignedLong(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const truncated = Math.trunc(number) % 2 ** 32;
  return truncated < 0 ? truncated + 2 ** 32 : truncated;
}

export const subtle = new SubtleCrypto(ILLEGAL);
