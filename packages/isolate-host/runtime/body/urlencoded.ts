/**
 * application/x-www-form-urlencoded parsing over bytes, as the URL standard
 * defines it (https://url.spec.whatwg.org/#urlencoded-parsing): no need to
 * load the URL implementation for a form body.
 */
import { utf8Decode } from "./deps.js";

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** '+' as a space, then percent-decoding (invalid escapes stay as they are), then UTF-8 without BOM. */
function decodePart(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.byteLength);
  let length = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    const byte = bytes[i]!;
    if (byte === 0x2b) {
      out[length++] = 0x20;
      continue;
    }
    if (byte === 0x25 && i + 2 < bytes.byteLength) {
      const high = hexValue(bytes[i + 1]!);
      const low = hexValue(bytes[i + 2]!);
      if (high !== -1 && low !== -1) {
        out[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[length++] = byte;
  }
  return utf8DecodeNoBom(out.subarray(0, length));
}

function utf8DecodeNoBom(bytes: Uint8Array): string {
  // "UTF-8 decode without BOM": a leading BOM is content, not a marker.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return `\ufeff${utf8Decode(bytes.subarray(3))}`;
  return utf8Decode(bytes);
}

export function parseUrlencoded(bytes: Uint8Array): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let start = 0;
  while (start <= bytes.byteLength) {
    let end = bytes.indexOf(0x26, start);
    if (end === -1) end = bytes.byteLength;
    const sequence = bytes.subarray(start, end);
    start = end + 1;
    if (sequence.byteLength === 0) continue;
    const equals = sequence.indexOf(0x3d);
    const name = equals === -1 ? sequence : sequence.subarray(0, equals);
    const value = equals === -1 ? new Uint8Array(0) : sequence.subarray(equals + 1);
    pairs.push([decodePart(name), decodePart(value)]);
  }
  return pairs;
}
