/**
 * `crypto.getRandomValues()` and `crypto.randomUUID()`: bytes from the host's
 * CSPRNG (node:crypto), since V8 has no secure random source of its own.
 */

import { DOMException } from "../dom-exception.js";
import { hostCall } from "../host.js";
import { QuotaExceededError } from "../quota-exceeded-error.js";

const MAX_RANDOM_BYTES = 65_536;
const INTEGER_ARRAYS = new Set([
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
]);

// Captured while the runtime loads, before any script code exists.
const reflectApply = Reflect.apply;
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)?.get as () => string | undefined;
const typedArrayBuffer = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  "buffer",
)?.get as () => ArrayBufferLike;
const typedArrayByteOffset = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  "byteOffset",
)?.get as () => number;
const typedArrayByteLength = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  "byteLength",
)?.get as () => number;

function hostBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Error("The host returned no bytes");
  return value;
}

// Random bytes come from the host in blocks, so small requests do not each cross over.
let pool: Uint8Array = new Uint8Array(0);
let poolOffset = 0;

export function randomBytes(length: number): Uint8Array {
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

/** The spec's steps: integer typed arrays only (TypeMismatchError), at most 65,536 bytes (QuotaExceededError). */
export function getRandomValues<T>(array: T): T {
  if (!ArrayBuffer.isView(array))
    throw new TypeError(
      "Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.",
    );
  const tag = reflectApply(typedArrayTag, array, []);
  if (tag === undefined || !INTEGER_ARRAYS.has(tag)) {
    throw new DOMException("The provided ArrayBufferView is not an integer array type", "TypeMismatchError");
  }
  const byteLength = reflectApply(typedArrayByteLength, array, []);
  if (byteLength > MAX_RANDOM_BYTES) {
    throw new QuotaExceededError(
      `The ArrayBufferView's byte length (${byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES})`,
    );
  }
  if (byteLength === 0) return array;
  const target = new Uint8Array(
    reflectApply(typedArrayBuffer, array, []),
    reflectApply(typedArrayByteOffset, array, []),
    byteLength,
  );
  target.set(randomBytes(byteLength));
  return array;
}

export function randomUUID(): string {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
