/**
 * WebIDL conversions of SubtleCrypto's arguments into plain data for the
 * host: KeyFormat and KeyUsage enums, JsonWebKey dictionaries copied member
 * by member, CryptoKeys replaced by their host handles. Algorithms are
 * normalized in ./normalize.ts.
 */
import { copyBytes, domString, isBufferSource } from "./bytes.js";
import { keyHandle } from "./key.js";

export { copyBytes, domString, isBufferSource, toArrayBuffer } from "./bytes.js";

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** sequence<T>: an iterable object, each item converted. */
function sequence<T>(value: unknown, what: string, item: (entry: unknown) => T): T[] {
  if (!isObject(value) || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function")
    throw new TypeError(`${what} is not iterable`);
  return Array.from(value as unknown as Iterable<unknown>, item);
}

const KEY_USAGES = new Set([
  "encrypt",
  "decrypt",
  "sign",
  "verify",
  "deriveKey",
  "deriveBits",
  "wrapKey",
  "unwrapKey",
]);
const KEY_FORMATS = new Set(["raw", "spki", "pkcs8", "jwk"]);

/** sequence<KeyUsage>: each item must be one of the enum's values. */
export function keyUsages(value: unknown): string[] {
  return sequence(value, "keyUsages", (item) => {
    const usage = domString(item);
    if (!KEY_USAGES.has(usage)) throw new TypeError(`'${usage}' is not a valid enum value of type KeyUsage`);
    return usage;
  });
}

/** KeyFormat enum. */
export function keyFormat(value: unknown): string {
  const format = domString(value);
  if (!KEY_FORMATS.has(format))
    throw new TypeError(`'${format}' is not a valid enum value of type KeyFormat`);
  return format;
}

const JWK_STRINGS = ["alg", "crv", "d", "dp", "dq", "e", "k", "kty", "n", "p", "q", "qi", "use", "x", "y"];

function otherPrime(value: unknown): Record<string, string> {
  if (value !== undefined && value !== null && !isObject(value))
    throw new TypeError("oth entries must be dictionaries");
  const source = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const member of ["d", "r", "t"]) {
    if (source[member] !== undefined) out[member] = domString(source[member]);
  }
  return out;
}

/** JsonWebKey dictionary. */
export function jsonWebKey(value: unknown): Record<string, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const member of [...JWK_STRINGS, "ext", "key_ops", "oth"].sort()) {
    const memberValue = source[member];
    if (memberValue === undefined) continue;
    if (member === "ext") out.ext = Boolean(memberValue);
    else if (member === "key_ops") out.key_ops = sequence(memberValue, "key_ops", domString);
    else if (member === "oth") out.oth = sequence(memberValue, "oth", otherPrime);
    else out[member] = domString(memberValue);
  }
  return out;
}

/** importKey's keyData: `(BufferSource or JsonWebKey)`. */
export function keyData(value: unknown): Uint8Array | Record<string, unknown> {
  if (isBufferSource(value)) return copyBytes(value, "keyData");
  if (value === undefined || value === null || isObject(value)) return jsonWebKey(value);
  throw new TypeError("keyData is not of type '(BufferSource or JsonWebKey)'");
}

/** A CryptoKey argument's host handle, or WebIDL's TypeError. */
export function cryptoKey(value: unknown, method: string, position: number): number {
  const handle = keyHandle(value);
  if (handle === undefined)
    throw new TypeError(
      `Failed to execute '${method}' on 'SubtleCrypto': parameter ${position} is not of type 'CryptoKey'.`,
    );
  return handle;
}
