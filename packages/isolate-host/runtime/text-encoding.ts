/**
 * TextEncoder and TextDecoder (WHATWG Encoding Standard). UTF-8, which the
 * runtime itself uses for every body, is decoded here (replacement per maximal
 * subpart, `fatal`, `ignoreBOM`, `stream`); every other encoding's decoder
 * comes from a lazily loaded part (runtime/encoding/legacy.ts), so a script
 * that only speaks UTF-8 never loads their tables.
 */
import { encodingForLabel } from "./encoding/labels.js";
import { type LegacyDecoder, legacyDecoder } from "./encoding/legacy.js";

const REPLACEMENT = 0xfffd;
const reflectApply = Reflect.apply;
const fromCharCode = String.fromCharCode;
const CHUNK = 0x2000;

const toStringTag = Object.prototype.toString;
function objectTag(value: unknown): string {
  return toStringTag.call(value);
}

/** WebIDL dictionary conversion: undefined and null are empty, other non-objects a TypeError. */
function dictionary(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" && typeof value !== "function") {
    throw new TypeError(`Failed to execute '${what}': The provided value is not of type 'object'.`);
  }
  return value as Record<string, unknown>;
}

function isDetached(buffer: ArrayBufferLike): boolean {
  return (buffer as { detached?: boolean }).detached === true;
}

function toBytes(input: unknown): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  // A detached buffer reads as empty (the Encoding Standard's "get a copy of the bytes").
  if (input instanceof ArrayBuffer) return isDetached(input) ? new Uint8Array(0) : new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    if (isDetached(input.buffer)) return new Uint8Array(0);
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  if (objectTag(input) === "[object SharedArrayBuffer]") return new Uint8Array(input as ArrayBufferLike);
  throw new TypeError("The provided value is not of type '(ArrayBuffer or ArrayBufferView)'");
}

function encodeUtf8(str: string): Uint8Array {
  const out = new Uint8Array(str.length * 3);
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < str.length ? str.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = REPLACEMENT; // lone surrogate
      }
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 0x3f);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.slice(0, n);
}

export class TextEncoder {
  get encoding(): string {
    return "utf-8";
  }

  encode(input: unknown = ""): Uint8Array {
    return encodeUtf8(`${input as string}`);
  }

  encodeInto(source: unknown, destination: unknown): { read: number; written: number } {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError(
        "Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.",
      );
    }
    const str = `${source as string}`;
    const capacity = destination.length;
    let read = 0;
    let written = 0;
    while (read < str.length) {
      let c = str.charCodeAt(read);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = read + 1 < str.length ? str.charCodeAt(read + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          units = 2;
        } else {
          c = REPLACEMENT;
        }
      }
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + size > capacity) break;
      if (size === 1) destination[written] = c;
      else if (size === 2) {
        destination[written] = 0xc0 | (c >> 6);
        destination[written + 1] = 0x80 | (c & 0x3f);
      } else if (size === 3) {
        destination[written] = 0xe0 | (c >> 12);
        destination[written + 1] = 0x80 | ((c >> 6) & 0x3f);
        destination[written + 2] = 0x80 | (c & 0x3f);
      } else {
        destination[written] = 0xf0 | (c >> 18);
        destination[written + 1] = 0x80 | ((c >> 12) & 0x3f);
        destination[written + 2] = 0x80 | ((c >> 6) & 0x3f);
        destination[written + 3] = 0x80 | (c & 0x3f);
      }
      written += size;
      read += units;
    }
    return { read, written };
  }

  get [Symbol.toStringTag](): string {
    return "TextEncoder";
  }
}

export class TextDecoder {
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  // Decoder state carried across `stream: true` calls.
  #needed = 0;
  #seen = 0;
  #codePoint = 0;
  #lower = 0x80;
  #upper = 0xbf;
  #bomSeen = false;

  readonly #encoding: string;
  /** The decoder of an encoding other than UTF-8 (null for UTF-8, decoded here). */
  readonly #legacy: LegacyDecoder | null;

  constructor(label: unknown = "utf-8", options: unknown = undefined) {
    const name = `${label as string}`;
    const dict = dictionary(options, "TextDecoder");
    const encoding = encodingForLabel(name);
    if (encoding === null || encoding === "replacement") {
      throw new RangeError(
        `Failed to construct 'TextDecoder': The encoding label provided ('${name}') is invalid.`,
      );
    }
    this.#encoding = encoding;
    this.#fatal = Boolean(dict.fatal);
    this.#ignoreBOM = Boolean(dict.ignoreBOM);
    this.#legacy = encoding === "utf-8" ? null : legacyDecoder(encoding, this.#fatal, this.#ignoreBOM);
  }

  get encoding(): string {
    return this.#encoding;
  }
  get fatal(): boolean {
    return this.#fatal;
  }
  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: unknown, options: unknown = undefined): string {
    const bytes = toBytes(input);
    const stream = Boolean(dictionary(options, "decode").stream);
    if (this.#legacy !== null) return this.#legacy.decode(bytes, { stream });
    const units: number[] = [];
    let out = "";
    const flush = (): void => {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    };
    const emit = (cp: number): void => {
      if (cp > 0xffff) {
        const v = cp - 0x10000;
        units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
      } else {
        units.push(cp);
      }
      if (units.length >= CHUNK) flush();
    };
    const fail = (): void => {
      if (this.#fatal) {
        this.#reset();
        throw new TypeError("The encoded data was not valid for encoding utf-8");
      }
      emit(REPLACEMENT);
    };

    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.#needed === 0) {
        if (b <= 0x7f) {
          // A run of ASCII bytes becomes a string in one call (most text, JSON and HTML is ASCII).
          let end = i + 1;
          const limit = Math.min(bytes.length, i + CHUNK);
          while (end < limit && bytes[end]! <= 0x7f) end++;
          if (end - i < 16) {
            emit(b);
            continue;
          }
          flush();
          out += reflectApply(fromCharCode, null, bytes.subarray(i, end) as unknown as number[]);
          i = end - 1;
          continue;
        } else if (b >= 0xc2 && b <= 0xdf) this.#start(1, b & 0x1f);
        else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.#lower = 0xa0;
          if (b === 0xed) this.#upper = 0x9f;
          this.#start(2, b & 0xf);
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.#lower = 0x90;
          if (b === 0xf4) this.#upper = 0x8f;
          this.#start(3, b & 0x7);
        } else fail();
        continue;
      }
      if (b < this.#lower || b > this.#upper) {
        this.#reset();
        fail();
        i--; // the byte starts a new sequence: reprocess it
        continue;
      }
      this.#lower = 0x80;
      this.#upper = 0xbf;
      this.#codePoint = (this.#codePoint << 6) | (b & 0x3f);
      if (++this.#seen === this.#needed) {
        const cp = this.#codePoint;
        this.#reset();
        emit(cp);
      }
    }
    if (!stream) {
      if (this.#needed !== 0) {
        this.#reset();
        fail();
      }
    }
    flush();
    if (!this.#ignoreBOM && !this.#bomSeen && out.length > 0) {
      this.#bomSeen = true;
      if (out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    }
    if (!stream) this.#bomSeen = false;
    return out;
  }

  get [Symbol.toStringTag](): string {
    return "TextDecoder";
  }

  #start(needed: number, bits: number): void {
    this.#needed = needed;
    this.#seen = 0;
    this.#codePoint = bits;
  }

  #reset(): void {
    this.#needed = 0;
    this.#seen = 0;
    this.#codePoint = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }
}

const sharedEncoder = new TextEncoder();
const sharedDecoder = new TextDecoder();

export function utf8Encode(str: string): Uint8Array {
  return sharedEncoder.encode(str);
}

export function utf8Decode(bytes: Uint8Array): string {
  return sharedDecoder.decode(bytes);
}
