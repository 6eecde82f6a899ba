/**
 * The application/x-www-form-urlencoded parser and serializer of the URL
 * Standard (§5), on which URLSearchParams stands.
 */
import { TextDecoder, utf8Encode } from "../text-encoding.js";

// "UTF-8 decode without BOM": a leading U+FEFF stays.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const SAFE = /^[A-Za-z0-9*\-._]*$/;
const HEX = "0123456789ABCDEF";

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

// Captured while the runtime loads: a script replacing it only changes what it sees itself.
const toWellFormed = (String.prototype as unknown as { toWellFormed(this: string): string }).toWellFormed;
const reflectApply = Reflect.apply;

/** Lone surrogates become U+FFFD, as WebIDL's USVString conversion does. */
export function toUSVString(value: unknown): string {
  return reflectApply(toWellFormed, `${value as string}`, []);
}

function percentDecode(text: string): string {
  if (!text.includes("%")) return toUSVString(text);
  const bytes = utf8Encode(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x25 && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1]!);
      const low = hexValue(bytes[i + 2]!);
      if (high >= 0 && low >= 0) {
        out[n++] = (high << 4) | low;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return decoder.decode(out.subarray(0, n));
}

export function parseFormUrlencoded(input: string): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  for (const sequence of input.split("&")) {
    if (sequence === "") continue;
    const at = sequence.indexOf("=");
    const name = at < 0 ? sequence : sequence.slice(0, at);
    const value = at < 0 ? "" : sequence.slice(at + 1);
    list.push([percentDecode(name.replaceAll("+", " ")), percentDecode(value.replaceAll("+", " "))]);
  }
  return list;
}

function serializeComponent(text: string): string {
  if (SAFE.test(text)) return text;
  let out = "";
  for (const byte of utf8Encode(text)) {
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2a ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f
    ) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20) {
      out += "+";
    } else {
      out += `%${HEX[byte >> 4]}${HEX[byte & 0xf]}`;
    }
  }
  return out;
}

export function serializeFormUrlencoded(list: ReadonlyArray<readonly [string, string]>): string {
  let out = "";
  for (const [name, value] of list) {
    if (out !== "") out += "&";
    out += `${serializeComponent(name)}=${serializeComponent(value)}`;
  }
  return out;
}
