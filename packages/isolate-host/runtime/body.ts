/**
 * Bodies of Request and Response. A body is held as bytes while it can be
 * (what the host sends and most scripts build), and becomes a ReadableStream
 * when a script asks for `.body` or gives a stream. Reading methods take the
 * bytes directly or drain the stream.
 */

import type { Blob } from "./body/blob.js";
import type { FormData } from "./body/form-data.js";
import { bodyFamily, loadedBodyFamily } from "./body-family.js";
import { type Headers, headerList } from "./headers.js";
import {
  isDisturbed,
  isReadableStream,
  type ReadableStream,
  readAllBytes,
  streamOfBytes,
} from "./streams.js";
import { utf8Decode, utf8Encode } from "./text-encoding.js";
import { loadedWhatwgUrl } from "./url.js";

export type BodyInit =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | import("whatwg-url").URLSearchParams
  | ReadableStream
  | Blob
  | FormData
  | null
  | undefined;

export interface ExtractedBody {
  bytes: Uint8Array | null;
  stream: ReadableStream | null;
  contentType: string | null;
}

/** Copies the init so later changes by the script to its buffer do not leak into the body. */
export function extractBody(init: unknown): ExtractedBody {
  if (init === null || init === undefined) return { bytes: null, stream: null, contentType: null };
  if (typeof init === "string") {
    return { bytes: utf8Encode(init), stream: null, contentType: "text/plain;charset=UTF-8" };
  }
  const family = loadedBodyFamily();
  if (family !== null && init instanceof family.Blob) {
    // A copy: a script reading the body stream gets chunks it may write to.
    const bytes = family.blobBytes(init).slice();
    return { bytes, stream: null, contentType: init.type === "" ? null : init.type };
  }
  if (family !== null && init instanceof family.FormData) {
    const boundary = family.generateBoundary();
    return {
      bytes: family.serializeMultipart(family.formDataEntries(init), boundary),
      stream: null,
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }
  if (init instanceof ArrayBuffer)
    return { bytes: new Uint8Array(init.slice(0)), stream: null, contentType: null };
  if (ArrayBuffer.isView(init)) {
    const view = new Uint8Array(init.buffer, init.byteOffset, init.byteLength);
    return { bytes: view.slice(), stream: null, contentType: null };
  }
  if (isReadableStream(init)) {
    if (init.locked || isDisturbed(init))
      throw new TypeError("The body stream is locked or has already been read");
    return { bytes: null, stream: init, contentType: null };
  }
  const url = loadedWhatwgUrl();
  if (url !== null && init instanceof url.URLSearchParams) {
    return {
      bytes: utf8Encode(init.toString()),
      stream: null,
      contentType: "application/x-www-form-urlencoded;charset=UTF-8",
    };
  }
  // Anything else is stringified, as WebIDL's union conversion does for USVString.
  return { bytes: utf8Encode(String(init)), stream: null, contentType: "text/plain;charset=UTF-8" };
}

/** A body's content as handed between Request/Response objects: bytes, a stream, or nothing. */
export interface BodySource {
  bytes: Uint8Array | null;
  stream: ReadableStream | null;
}

let sourceOf: (body: Body) => BodySource;
let takeSource: (body: Body) => BodySource;
let teeSource: (body: Body) => BodySource;

export class Body {
  #bytes: Uint8Array | null;
  #stream: ReadableStream | null;
  #used = false;
  readonly #headers: Headers;

  static {
    sourceOf = (body) => ({ bytes: body.#bytes, stream: body.#stream });
    takeSource = (body) => {
      const source = { bytes: body.#bytes, stream: body.#stream };
      if (source.bytes !== null || source.stream !== null) body.#used = true;
      body.#bytes = null;
      return source;
    };
    teeSource = (body) => {
      // A copy: the original's bytes reach the script as a chunk of `.body`, which it may write to.
      if (body.#stream === null)
        return { bytes: body.#bytes === null ? null : body.#bytes.slice(), stream: null };
      const [mine, theirs] = bodyFamily().cloneTee(body.#stream);
      body.#stream = mine;
      return { bytes: null, stream: theirs };
    };
  }

  constructor(source: BodySource, headers: Headers) {
    this.#bytes = source.bytes;
    this.#stream = source.stream;
    this.#headers = headers;
  }

  get body(): ReadableStream | null {
    if (this.#stream === null && this.#bytes !== null) {
      this.#stream = streamOfBytes(this.#used ? new Uint8Array(0) : this.#bytes);
      this.#bytes = null;
      if (this.#used) void this.#stream.cancel();
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    if (this.#stream !== null) return this.#used || isDisturbed(this.#stream);
    return this.#used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#consume();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return (await this.#consume()).slice();
  }

  async text(): Promise<string> {
    return utf8Decode(await this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(utf8Decode(await this.#consume()));
  }

  async blob(): Promise<Blob> {
    const bytes = await this.#consume();
    const { blobFromBytes, serializeMimeType } = bodyFamily();
    const mimeType = this.#mimeType();
    return blobFromBytes(bytes.slice(), mimeType === null ? "" : serializeMimeType(mimeType));
  }

  /** multipart/form-data or application/x-www-form-urlencoded, by the Content-Type; else a TypeError. */
  async formData(): Promise<FormData> {
    const bytes = await this.#consume();
    const { formDataOf, parseMultipart, parseUrlencoded } = bodyFamily();
    const mimeType = this.#mimeType();
    const essence = mimeType === null ? null : `${mimeType.type}/${mimeType.subtype}`;
    if (essence === "multipart/form-data") {
      const boundary = mimeType!.parameters.get("boundary");
      if (boundary === undefined)
        throw new TypeError("Failed to parse body as FormData: the multipart Content-Type has no boundary");
      return formDataOf(parseMultipart(bytes, boundary));
    }
    if (essence === "application/x-www-form-urlencoded") return formDataOf(parseUrlencoded(bytes));
    throw new TypeError(
      "Failed to parse body as FormData: Content-Type is neither multipart/form-data nor application/x-www-form-urlencoded",
    );
  }

  #mimeType() {
    const values = headerList(this.#headers)
      .filter(([name]) => name === "content-type")
      .map(([, value]) => value);
    return values.length === 0 ? null : bodyFamily().extractMimeType(values);
  }

  async #consume(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError("Body has already been used. It can only be used once.");
    if (this.#stream !== null) {
      if (this.#stream.locked) throw new TypeError("The body stream is locked to a reader");
      this.#used = true;
      return readAllBytes(this.#stream);
    }
    if (this.#bytes === null) return new Uint8Array(0);
    this.#used = true;
    return this.#bytes;
  }
}

/** The body as it is, without consuming it (for the host and for building another Request). */
export function bodySource(body: Body): BodySource {
  return sourceOf(body);
}

/** Moves the body out (the original becomes used), as `new Request(request)` does. */
export function takeBodySource(body: Body): BodySource {
  return takeSource(body);
}

/** A copy of the body for clone(): bytes are copied, a stream is teed. */
export function cloneBodySource(body: Body): BodySource {
  return teeSource(body);
}

/** All of a body's bytes, draining a stream if it has one (for fetch() request bodies). */
export async function bodyBytesOf(source: BodySource, maxBytes?: number): Promise<Uint8Array | null> {
  if (source.stream !== null) return readAllBytes(source.stream, maxBytes);
  return source.bytes;
}
