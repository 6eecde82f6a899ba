/**
 * multipart/form-data both ways: the HTML standard's encoding algorithm
 * (https://html.spec.whatwg.org/#multipart/form-data-encoding-algorithm) for
 * FormData bodies, and an RFC 7578 parser for Body.formData(). Failures to
 * parse are TypeErrors, as Fetch says.
 */

import { blobBytes, fileFromBytes } from "./blob.js";
import { utf8Decode, utf8Encode } from "./deps.js";
import type { FormDataEntry } from "./form-data.js";

const CRLF = new Uint8Array([0x0d, 0x0a]);

/** Names and filenames as HTML escapes them in a Content-Disposition header. */
function escapeName(name: string): string {
  return name.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

/** Bare CR and LF become CRLF in names and string values. */
function normalizeNewlines(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/** A boundary no part can contain by chance: 24 random digits after a fixed prefix. */
export function generateBoundary(): string {
  let digits = "";
  for (let i = 0; i < 24; i++) digits += Math.floor(Math.random() * 10).toString();
  return `----formdata-edge-${digits}`;
}

export function serializeMultipart(entries: readonly FormDataEntry[], boundary: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const [name, value] of entries) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(normalizeNewlines(name))}"`;
    if (typeof value === "string") {
      chunks.push(utf8Encode(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`));
      continue;
    }
    const type = value.type === "" ? "application/octet-stream" : value.type;
    head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${type}\r\n\r\n`;
    chunks.push(utf8Encode(head), blobBytes(value), CRLF);
  }
  chunks.push(utf8Encode(`--${boundary}--\r\n`));
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function fail(reason: string): never {
  throw new TypeError(`Failed to parse body as FormData: ${reason}`);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = haystack.byteLength - needle.byteLength;
  outer: for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.byteLength; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A Content-Disposition parameter's value: quoted (HTML's %XX escapes undone) or a token. */
function dispositionParameter(header: string, name: string): string | null {
  const pattern = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i");
  const match = pattern.exec(header);
  if (match === null) return null;
  if (match[1] !== undefined)
    return match[1]
      .replace(/\\(.)/g, "$1")
      .replace(/%0A/gi, "\n")
      .replace(/%0D/gi, "\r")
      .replace(/%22/g, '"');
  return match[2] ?? "";
}

/** The header block of one part: lower-case name → value. */
function parsePartHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) fail(`malformed part header '${line}'`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Decodes header bytes as UTF-8, which is what browsers send names and filenames in. */
function headerText(bytes: Uint8Array): string {
  return utf8Decode(bytes);
}

export function parseMultipart(body: Uint8Array, boundary: string): FormDataEntry[] {
  if (boundary === "") fail("empty boundary");
  const delimiter = utf8Encode(`--${boundary}`);
  const separator = utf8Encode(`\r\n--${boundary}`);
  const headerEnd = utf8Encode("\r\n\r\n");
  // The first delimiter starts the body or follows a preamble ending in CRLF.
  let position: number;
  if (indexOfBytes(body, delimiter, 0) === 0) position = delimiter.byteLength;
  else {
    const at = indexOfBytes(body, separator, 0);
    if (at === -1) fail("no boundary delimiter found");
    position = at + separator.byteLength;
  }
  const entries: FormDataEntry[] = [];
  for (;;) {
    // After a delimiter: "--" closes the body, else transport padding and CRLF open a part.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return entries;
    while (body[position] === 0x20 || body[position] === 0x09) position++;
    if (body[position] !== 0x0d || body[position + 1] !== 0x0a) fail("expected CRLF after a boundary");
    position += 2;
    let headersText = "";
    let contentStart: number;
    if (body[position] === 0x0d && body[position + 1] === 0x0a) {
      contentStart = position + 2;
    } else {
      const end = indexOfBytes(body, headerEnd, position);
      if (end === -1) fail("unterminated part headers");
      headersText = headerText(body.subarray(position, end));
      contentStart = end + headerEnd.byteLength;
    }
    const contentEnd = indexOfBytes(body, separator, contentStart);
    if (contentEnd === -1) fail("a part is not closed by a boundary delimiter");
    const headers = parsePartHeaders(headersText);
    const disposition = headers.get("content-disposition");
    if (disposition === undefined || !/^form-data\s*(;|$)/i.test(disposition))
      fail("a part has no 'Content-Disposition: form-data' header");
    const name = dispositionParameter(disposition, "name");
    if (name === null) fail("a part has no name");
    const filename = dispositionParameter(disposition, "filename");
    const content = body.subarray(contentStart, contentEnd);
    if (filename === null) entries.push([name, utf8Decode(content)]);
    else entries.push([name, fileFromBytes(content, filename, headers.get("content-type") ?? "text/plain")]);
    position = contentEnd + separator.byteLength;
  }
}
