/**
 * BufferSource and DOMString conversions shared by the core (digest,
 * timingSafeEqual) and the lazily loaded crypto part. Stateless: each bundle
 * has its own copy.
 */

const detachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;
const reflectApply = Reflect.apply;

function isDetached(buffer: ArrayBuffer): boolean {
  return detachedGetter !== undefined && reflectApply(detachedGetter, buffer, []) === true;
}

export function isBufferSource(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** "Get a copy of the bytes held by the buffer source". */
export function copyBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof ArrayBuffer) {
    return isDetached(value) ? new Uint8Array(0) : new Uint8Array(value.slice(0));
  }
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (!(buffer instanceof ArrayBuffer))
      throw new TypeError(`${what} must not be backed by a SharedArrayBuffer`);
    if (isDetached(buffer)) return new Uint8Array(0);
    return new Uint8Array(buffer, value.byteOffset, value.byteLength).slice();
  }
  throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'`);
}

/** WebIDL DOMString: ToString, which throws a TypeError for a Symbol. */
export function domString(value: unknown): string {
  return `${value as string}`;
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
