import { crc32 } from "node:zlib";

/**
 * The framing of ONE gzip member (RFC 1952) around a raw deflate stream, for
 * DecompressionStream("gzip"): the Compression Standard allows a single
 * member, and anything after its trailer is junk (a TypeError), where zlib's
 * own gunzip would go on into a second member. The header is parsed here, the
 * body inflated raw by the caller, and the trailer's CRC-32 and length checked.
 */

/** Longest header accepted (FEXTRA is at most 64 KiB; file name and comment are bounded here). */
const MAX_HEADER_BYTES = 128 * 1024;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

export class GzipMemberError extends Error {}

/** Where in `bytes` the header ends, -1 when more bytes are needed; throws on a header that is not gzip's. */
function headerLength(bytes: Uint8Array): number {
  if (bytes.length >= 1 && bytes[0] !== 0x1f) throw new GzipMemberError("Not gzip data (bad magic bytes)");
  if (bytes.length >= 2 && bytes[1] !== 0x8b) throw new GzipMemberError("Not gzip data (bad magic bytes)");
  if (bytes.length >= 3 && bytes[2] !== 8) throw new GzipMemberError("Unknown gzip compression method");
  if (bytes.length < 10) return -1;
  const flags = bytes[3]!;
  if ((flags & 0xe0) !== 0) throw new GzipMemberError("Reserved gzip header flags are set");
  let at = 10;
  if (flags & FEXTRA) {
    if (bytes.length < at + 2) return -1;
    at += 2 + (bytes[at]! | (bytes[at + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const end = bytes.indexOf(0, at);
    if (end < 0) return -1;
    at = end + 1;
  }
  if (flags & FHCRC) {
    if (bytes.length < at + 2) return -1;
    const expected = bytes[at]! | (bytes[at + 1]! << 8);
    if ((crc32(bytes.subarray(0, at)) & 0xffff) !== expected)
      throw new GzipMemberError("Bad gzip header checksum");
    at += 2;
  }
  return bytes.length >= at ? at : -1;
}

export class GzipMember {
  #state: "header" | "body" | "trailer" = "header";
  #header: Uint8Array = new Uint8Array(0);
  #trailer: number[] = [];
  #crc = 0;
  #size = 0;

  get inBody(): boolean {
    return this.#state === "body";
  }

  /** Takes header bytes from the front of `input`; returns what follows the header (the body's start) or null. */
  takeHeader(input: Uint8Array): Uint8Array | null {
    if (this.#state !== "header") return input;
    const joined = new Uint8Array(this.#header.length + input.length);
    joined.set(this.#header);
    joined.set(input, this.#header.length);
    const length = headerLength(joined);
    if (length < 0) {
      if (joined.length > MAX_HEADER_BYTES) throw new GzipMemberError("The gzip header is too long");
      this.#header = joined;
      return null;
    }
    this.#state = "body";
    this.#header = new Uint8Array(0);
    return joined.subarray(length);
  }

  /** Output of the body, for the trailer's checks. */
  inflated(output: Uint8Array): void {
    if (output.length === 0) return;
    this.#crc = crc32(output, this.#crc);
    this.#size = (this.#size + output.length) >>> 0;
  }

  /** The deflate body ended; `rest` is what came after it: the trailer, then nothing. */
  bodyEnded(rest: Uint8Array): void {
    this.#state = "trailer";
    for (const byte of rest) {
      if (this.#trailer.length === 8)
        throw new GzipMemberError("Junk found after the end of the compressed data");
      this.#trailer.push(byte);
    }
  }

  /** At the end of input: the member must be whole and its checksums right. */
  finish(): void {
    if (this.#state !== "trailer" || this.#trailer.length < 8) {
      throw new GzipMemberError("The compressed data is truncated");
    }
    const t = this.#trailer;
    const crc = (t[0]! | (t[1]! << 8) | (t[2]! << 16) | (t[3]! << 24)) >>> 0;
    const size = (t[4]! | (t[5]! << 8) | (t[6]! << 16) | (t[7]! << 24)) >>> 0;
    if (crc !== this.#crc >>> 0 || size !== this.#size)
      throw new GzipMemberError("The gzip checksum does not match the data");
  }
}
