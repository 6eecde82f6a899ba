/**
 * UTF-8 TextEncoder/TextDecoder. V8 has none and no installed pure-JS package
 * provides them, so these follow the WHATWG Encoding spec's UTF-8 algorithms
 * (replacement per maximal subpart, `fatal`, `ignoreBOM`, `stream`).
 */

const UTF8_LABELS = new Set([
  "unicode-1-1-utf-8",
  "unicode11utf8",
  "unicode20utf8",
  "utf-8",
  "utf8",
  "x-unicode20utf8",
]);
const REPLACEMENT = 0xfffd;
const CHUNK = 0x2000;

function toBytes(input: unknown): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
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
    return encodeUtf8(String(input));
  }

  encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
    const str = String(source);
    let read = 0;
    let written = 0;
    for (const ch of str) {
      const bytes = encodeUtf8(ch);
      if (written + bytes.length > destination.length) break;
      destination.set(bytes, written);
      written += bytes.length;
      read += ch.length;
    }
    return { read, written };
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

  constructor(label: unknown = "utf-8", options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const normalized = String(label).trim().toLowerCase();
    if (!UTF8_LABELS.has(normalized)) {
      throw new RangeError(`The encoding label provided ('${String(label)}') is not supported`);
    }
    this.#fatal = Boolean(options.fatal);
    this.#ignoreBOM = Boolean(options.ignoreBOM);
  }

  get encoding(): string {
    return "utf-8";
  }
  get fatal(): boolean {
    return this.#fatal;
  }
  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: unknown, options: { stream?: boolean } = {}): string {
    const bytes = toBytes(input);
    const stream = Boolean(options.stream);
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
        if (b <= 0x7f) emit(b);
        else if (b >= 0xc2 && b <= 0xdf) this.#start(1, b & 0x1f);
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
