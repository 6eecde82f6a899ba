/** atob/btoa with the HTML standard's forgiving-base64 algorithms. */
import { DOMException } from "./dom-exception.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
// ASCII whitespace: TAB, LF, FF, CR, SPACE.
const ASCII_WHITESPACE = /[\t\n\f\r ]/g;

function invalid(message: string): DOMException {
  return new DOMException(message, "InvalidCharacterError");
}

function requireArgument(args: number, name: string): void {
  if (args === 0)
    throw new TypeError(`Failed to execute '${name}': 1 argument required, but only 0 present.`);
}

export function btoa(...args: unknown[]): string {
  requireArgument(args.length, "btoa");
  const data = String(args[0]);
  let out = "";
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const a = byteAt(data, i);
    const b = byteAt(data, i + 1);
    const c = byteAt(data, i + 2);
    out += ALPHABET[a >> 2]! + ALPHABET[((a & 3) << 4) | (b >> 4)]! + ALPHABET[((b & 15) << 2) | (c >> 6)]!;
    out += ALPHABET[c & 63]!;
  }
  const rest = data.length - i;
  if (rest === 1) {
    const a = byteAt(data, i);
    out += `${ALPHABET[a >> 2]!}${ALPHABET[(a & 3) << 4]!}==`;
  } else if (rest === 2) {
    const a = byteAt(data, i);
    const b = byteAt(data, i + 1);
    out += `${ALPHABET[a >> 2]!}${ALPHABET[((a & 3) << 4) | (b >> 4)]!}${ALPHABET[(b & 15) << 2]!}=`;
  }
  return out;
}

function byteAt(data: string, index: number): number {
  const code = data.charCodeAt(index);
  if (code > 0xff)
    throw invalid(
      "Failed to execute 'btoa': The string to be encoded contains characters outside of the Latin1 range.",
    );
  return code;
}

export function atob(...args: unknown[]): string {
  requireArgument(args.length, "atob");
  let data = String(args[0]).replace(ASCII_WHITESPACE, "");
  if (data.length % 4 === 0) {
    if (data.endsWith("==")) data = data.slice(0, -2);
    else if (data.endsWith("=")) data = data.slice(0, -1);
  }
  if (data.length % 4 === 1)
    throw invalid("Failed to execute 'atob': The string to be decoded is not correctly encoded.");
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < data.length; i++) {
    const code = data.charCodeAt(i);
    const value = code < 128 ? DECODE[code]! : -1;
    if (value < 0)
      throw invalid("Failed to execute 'atob': The string to be decoded is not correctly encoded.");
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}
