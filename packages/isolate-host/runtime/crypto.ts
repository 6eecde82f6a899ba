/**
 * `crypto`: randomness and SubtleCrypto's digest and HMAC, computed by the host
 * (node:crypto) since V8 has neither a secure random source nor hashes.
 * Keys stay in the isolate; the host only sees the bytes of each operation.
 */

import { atob, btoa } from "./base64.js";
import { DOMException } from "./dom-exception.js";
import { hostCall } from "./host.js";

const DIGESTS = new Map([
  ["SHA-1", "sha1"],
  ["SHA-256", "sha256"],
  ["SHA-384", "sha384"],
  ["SHA-512", "sha512"],
]);
/** HMAC's default key length is the hash's block size. */
const BLOCK_BITS: Record<string, number> = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
const MAX_RANDOM_BYTES = 65_536;
const INTEGER_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
];

function hostBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Error("The host returned no bytes");
  return value;
}

/** Copies BufferSource bytes (the script may change its buffer after the call). */
function bufferSource(data: unknown, what: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'`);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

// Random bytes come from the host in blocks, so small requests do not each cross over.
let pool: Uint8Array = new Uint8Array(0);
let poolOffset = 0;

function randomBytes(length: number): Uint8Array {
  if (length > 256) return hostBytes(hostCall("random", length));
  if (poolOffset + length > pool.length) {
    pool = hostBytes(hostCall("random", 1024));
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + length);
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return out;
}

function getRandomValues<T>(array: T): T {
  if (!INTEGER_ARRAYS.some((type) => array instanceof type)) {
    throw new DOMException("The provided ArrayBufferView is not an integer array type", "TypeMismatchError");
  }
  const view = array as unknown as Uint8Array;
  if (view.byteLength > MAX_RANDOM_BYTES) {
    throw new DOMException(
      `The ArrayBufferView's byte length (${view.byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES})`,
      "QuotaExceededError",
    );
  }
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(randomBytes(view.byteLength));
  return array;
}

function randomUUID(): string {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface HashAlgorithm {
  name: string;
}

/** Normalises an AlgorithmIdentifier naming a hash: "sha-256" or { name: "SHA-256" }. */
function hashName(algorithm: unknown): string {
  const raw = typeof algorithm === "string" ? algorithm : (algorithm as { name?: unknown } | null)?.name;
  const name = String(raw).toUpperCase();
  if (!DIGESTS.has(name))
    throw new DOMException(`Unrecognized or unsupported hash: ${String(raw)}`, "NotSupportedError");
  return name;
}

function algorithmName(algorithm: unknown): string {
  const raw = typeof algorithm === "string" ? algorithm : (algorithm as { name?: unknown } | null)?.name;
  return String(raw).toUpperCase();
}

const KEY_USAGES = new Set(["sign", "verify"]);
let keyBytesOf: (key: CryptoKey) => Uint8Array;
const ILLEGAL = Symbol("illegal");

export class CryptoKey {
  readonly #bytes: Uint8Array;
  readonly #algorithm: { name: "HMAC"; hash: HashAlgorithm; length: number };
  readonly #extractable: boolean;
  readonly #usages: string[];

  static {
    keyBytesOf = (key) => key.#bytes;
  }

  constructor(key: unknown, bytes: Uint8Array, hash: string, extractable: boolean, usages: string[]) {
    if (key !== ILLEGAL) throw new TypeError("Illegal constructor");
    this.#bytes = bytes;
    this.#algorithm = { name: "HMAC", hash: { name: hash }, length: bytes.length * 8 };
    this.#extractable = extractable;
    this.#usages = usages;
  }

  get type(): string {
    return "secret";
  }
  get extractable(): boolean {
    return this.#extractable;
  }
  get algorithm(): { name: string; hash: HashAlgorithm; length: number } {
    return { ...this.#algorithm, hash: { ...this.#algorithm.hash } };
  }
  get usages(): string[] {
    return [...this.#usages];
  }
  get [Symbol.toStringTag](): string {
    return "CryptoKey";
  }
}

function checkUsages(usages: unknown): string[] {
  const list = Array.from(usages as Iterable<unknown>, String);
  for (const usage of list) {
    if (!KEY_USAGES.has(usage))
      throw new DOMException(`Unsupported key usage for an HMAC key: ${usage}`, "SyntaxError");
  }
  if (list.length === 0) throw new DOMException("Usages cannot be empty when creating a key.", "SyntaxError");
  return list;
}

function hmacParams(algorithm: unknown): { hash: string; length: number | null } {
  if (algorithmName(algorithm) !== "HMAC") {
    throw new DOMException(
      `Unrecognized or unsupported algorithm: ${String(algorithmName(algorithm))}`,
      "NotSupportedError",
    );
  }
  const params = algorithm as { hash?: unknown; length?: unknown };
  if (params.hash === undefined) throw new TypeError("HMAC needs a hash");
  const length = params.length === undefined ? null : Number(params.length);
  if (length !== null && (!Number.isInteger(length) || length <= 0)) {
    throw new DOMException("Invalid HMAC key length", "DataError");
  }
  return { hash: hashName(params.hash), length };
}

function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new DOMException("Invalid base64url in JWK", "DataError");
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hmacBytes(hash: string, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hostBytes(hostCall("hmac", DIGESTS.get(hash), key, data));
}

function usableKey(key: unknown, usage: string): CryptoKey {
  if (!(key instanceof CryptoKey)) throw new TypeError("Parameter 2 is not of type 'CryptoKey'.");
  if (!key.usages.includes(usage)) {
    throw new DOMException(`The key does not allow '${usage}'`, "InvalidAccessError");
  }
  return key;
}

/** Runs `work` as SubtleCrypto does: every failure is a rejection, never a synchronous throw. */
function promised<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

export const subtle = Object.freeze({
  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    return promised(() => {
      const name = hashName(algorithm);
      return toArrayBuffer(hostBytes(hostCall("digest", DIGESTS.get(name), bufferSource(data, "data"))));
    });
  },

  importKey(
    format: unknown,
    keyData: unknown,
    algorithm: unknown,
    extractable: unknown,
    usages: unknown,
  ): Promise<CryptoKey> {
    return promised(() => {
      const { hash, length } = hmacParams(algorithm);
      const keyUsages = checkUsages(usages);
      let bytes: Uint8Array;
      if (format === "raw") {
        bytes = bufferSource(keyData, "keyData");
      } else if (format === "jwk") {
        const jwk = keyData as { kty?: unknown; k?: unknown; alg?: unknown };
        if (jwk?.kty !== "oct" || typeof jwk.k !== "string")
          throw new DOMException("Invalid JWK for an HMAC key", "DataError");
        bytes = base64UrlDecode(jwk.k);
      } else {
        throw new DOMException(`Unsupported key format: ${String(format)}`, "NotSupportedError");
      }
      if (bytes.length === 0) throw new DOMException("An HMAC key cannot be empty", "DataError");
      if (length !== null && (length > bytes.length * 8 || length <= (bytes.length - 1) * 8)) {
        throw new DOMException("The HMAC key length does not match the key data", "DataError");
      }
      return new CryptoKey(ILLEGAL, bytes, hash, Boolean(extractable), keyUsages);
    });
  },

  generateKey(algorithm: unknown, extractable: unknown, usages: unknown): Promise<CryptoKey> {
    return promised(() => {
      const { hash, length } = hmacParams(algorithm);
      const bits = length ?? BLOCK_BITS[hash]!;
      const bytes = randomBytes(Math.ceil(bits / 8));
      return new CryptoKey(ILLEGAL, bytes, hash, Boolean(extractable), checkUsages(usages));
    });
  },

  exportKey(format: unknown, key: unknown): Promise<ArrayBuffer | Record<string, unknown>> {
    return promised(() => {
      if (!(key instanceof CryptoKey)) throw new TypeError("Parameter 2 is not of type 'CryptoKey'.");
      if (!key.extractable) throw new DOMException("The key is not extractable", "InvalidAccessError");
      const bytes = keyBytesOf(key);
      if (format === "raw") return toArrayBuffer(bytes);
      if (format === "jwk") {
        const bits = key.algorithm.hash.name.slice(4);
        return {
          kty: "oct",
          k: base64UrlEncode(bytes),
          alg: `HS${bits === "1" ? "1" : bits}`,
          ext: true,
          key_ops: key.usages,
        };
      }
      throw new DOMException(`Unsupported key format: ${String(format)}`, "NotSupportedError");
    });
  },

  sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    return promised(() => {
      if (algorithmName(algorithm) !== "HMAC")
        throw new DOMException("Only HMAC is supported", "NotSupportedError");
      const usable = usableKey(key, "sign");
      return toArrayBuffer(
        hmacBytes(usable.algorithm.hash.name, keyBytesOf(usable), bufferSource(data, "data")),
      );
    });
  },

  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    return promised(() => {
      if (algorithmName(algorithm) !== "HMAC")
        throw new DOMException("Only HMAC is supported", "NotSupportedError");
      const usable = usableKey(key, "verify");
      const expected = hmacBytes(usable.algorithm.hash.name, keyBytesOf(usable), bufferSource(data, "data"));
      return timingSafeEqual(expected, bufferSource(signature, "signature"));
    });
  },

  /** Workers' non-standard constant-time comparison. */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    return timingSafeEqual(bufferSource(a, "a"), bufferSource(b, "b"));
  },
});

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const crypto = Object.freeze({ getRandomValues, randomUUID, subtle });
