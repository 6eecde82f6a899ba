/**
 * Bodies are held as bytes: there are no streams in the isolate yet, so
 * `.body` is absent and reading methods resolve from the buffered bytes.
 */
import { utf8Decode, utf8Encode } from "./text-encoding.js";
import { loadedWhatwgUrl } from "./url.js";

export type BodyInit =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | import("whatwg-url").URLSearchParams
  | null
  | undefined;

export interface ExtractedBody {
  bytes: Uint8Array | null;
  contentType: string | null;
}

/** Copies the init so later changes by the script to its buffer do not leak into the body. */
export function extractBody(init: unknown): ExtractedBody {
  if (init === null || init === undefined) return { bytes: null, contentType: null };
  if (typeof init === "string") return { bytes: utf8Encode(init), contentType: "text/plain;charset=UTF-8" };
  if (init instanceof ArrayBuffer) return { bytes: new Uint8Array(init.slice(0)), contentType: null };
  if (ArrayBuffer.isView(init)) {
    const view = new Uint8Array(init.buffer, init.byteOffset, init.byteLength);
    return { bytes: view.slice(), contentType: null };
  }
  const url = loadedWhatwgUrl();
  if (url !== null && init instanceof url.URLSearchParams) {
    return {
      bytes: utf8Encode(init.toString()),
      contentType: "application/x-www-form-urlencoded;charset=UTF-8",
    };
  }
  // Anything else is stringified, as WebIDL's union conversion does for USVString.
  return { bytes: utf8Encode(String(init)), contentType: "text/plain;charset=UTF-8" };
}

let bytesOf: (body: Body) => Uint8Array | null;

export class Body {
  #bytes: Uint8Array | null;
  #used = false;

  static {
    bytesOf = (body) => body.#bytes;
  }

  constructor(bytes: Uint8Array | null) {
    this.#bytes = bytes;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#consume();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consume().slice();
  }

  async text(): Promise<string> {
    return utf8Decode(this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(utf8Decode(this.#consume()));
  }

  #consume(): Uint8Array {
    if (this.#used) throw new TypeError("Body has already been used. It can only be used once.");
    if (this.#bytes === null) return new Uint8Array(0);
    this.#used = true;
    return this.#bytes;
  }
}

/** The body's bytes without consuming it (for clone() and for handing the response to the host). */
export function bodyBytes(body: Body): Uint8Array | null {
  return bytesOf(body);
}
