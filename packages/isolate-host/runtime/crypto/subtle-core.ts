// biome-ignore-all lint/complexity/noArguments: WebIDL counts the arguments actually passed, and a rest parameter would change each method's `length`.
/**
 * The SubtleCrypto interface scripts see. `digest` (and Cloudflare's
 * `timingSafeEqual`) run here in the core with a synchronous host hash, so
 * the common "hash a body" request never loads the crypto part; every other
 * method forwards, with its arguments untouched, to the lazily loaded part
 * (runtime/crypto/subtle.ts), which converts and normalizes them as the spec
 * says and runs the operation on the host.
 */
import { DOMException } from "../dom-exception.js";
import { hostCall } from "../host.js";
import { copyBytes, domString, toArrayBuffer } from "./bytes.js";
import { cryptoPart } from "./part.js";

// Captured while the runtime loads, before any script code exists.
const reflectApply = Reflect.apply;

/** digest's registered algorithms, by their ASCII upper case; MD5 is Cloudflare's extra. */
const DIGESTS = new Map([
  ["SHA-1", "sha1"],
  ["SHA-256", "sha256"],
  ["SHA-384", "sha384"],
  ["SHA-512", "sha512"],
  ["MD5", "md5"],
]);

function forward(method: string, args: IArguments): Promise<unknown> {
  try {
    const implementation = cryptoPart().subtle;
    return reflectApply(
      implementation[method] as (...a: unknown[]) => Promise<unknown>,
      implementation,
      args,
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

/** "Normalize an algorithm" for digest: the Algorithm dictionary's name among the registered hashes. */
function digestHash(algorithm: unknown): string {
  let name: unknown = algorithm;
  if ((typeof algorithm === "object" && algorithm !== null) || typeof algorithm === "function") {
    name = (algorithm as { name?: unknown }).name;
    if (name === undefined) throw new TypeError("Algorithm: name: Missing required member");
  }
  const text = domString(name);
  const hash = DIGESTS.get(text.replace(/[a-z]+/g, (run) => run.toUpperCase()));
  if (hash === undefined)
    throw new DOMException(`Unrecognized algorithm name '${text}' for digest`, "NotSupportedError");
  return hash;
}

const ILLEGAL = Symbol("illegal");

export class SubtleCrypto {
  constructor(token: unknown = undefined) {
    if (token !== ILLEGAL) throw new TypeError("Illegal constructor");
  }

  encrypt(_algorithm: unknown, _key: unknown, _data: unknown): Promise<unknown> {
    return forward("encrypt", arguments);
  }
  decrypt(_algorithm: unknown, _key: unknown, _data: unknown): Promise<unknown> {
    return forward("decrypt", arguments);
  }
  sign(_algorithm: unknown, _key: unknown, _data: unknown): Promise<unknown> {
    return forward("sign", arguments);
  }
  verify(_algorithm: unknown, _key: unknown, _signature: unknown, _data: unknown): Promise<unknown> {
    return forward("verify", arguments);
  }
  generateKey(_algorithm: unknown, _extractable: unknown, _usages: unknown): Promise<unknown> {
    return forward("generateKey", arguments);
  }
  deriveKey(
    _algorithm: unknown,
    _baseKey: unknown,
    _derivedKeyType: unknown,
    _extractable: unknown,
    _usages: unknown,
  ): Promise<unknown> {
    return forward("deriveKey", arguments);
  }
  deriveBits(_algorithm: unknown, _baseKey: unknown): Promise<unknown> {
    return forward("deriveBits", arguments);
  }
  importKey(
    _format: unknown,
    _keyData: unknown,
    _algorithm: unknown,
    _extractable: unknown,
    _usages: unknown,
  ): Promise<unknown> {
    return forward("importKey", arguments);
  }
  exportKey(_format: unknown, _key: unknown): Promise<unknown> {
    return forward("exportKey", arguments);
  }
  wrapKey(_format: unknown, _key: unknown, _wrappingKey: unknown, _wrapAlgorithm: unknown): Promise<unknown> {
    return forward("wrapKey", arguments);
  }
  unwrapKey(
    _format: unknown,
    _wrappedKey: unknown,
    _unwrappingKey: unknown,
    _unwrapAlgorithm: unknown,
    _unwrappedKeyAlgorithm: unknown,
    _extractable: unknown,
    _usages: unknown,
  ): Promise<unknown> {
    return forward("unwrapKey", arguments);
  }

  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    try {
      if (arguments.length < 2)
        throw new TypeError(
          `Failed to execute 'digest' on 'SubtleCrypto': 2 arguments required, but only ${arguments.length} present.`,
        );
      const bytes = copyBytes(data, "data");
      const hash = digestHash(algorithm);
      let digest: unknown;
      try {
        digest = hostCall("digest", hash, bytes);
      } catch (err) {
        throw new DOMException((err as Error).message, "OperationError");
      }
      // The result settles after a microtask, as an operation "in parallel" would.
      return Promise.resolve().then(() => toArrayBuffer(digest as Uint8Array));
    } catch (err) {
      return Promise.reject(err);
    }
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

export const subtle = new SubtleCrypto(ILLEGAL);
