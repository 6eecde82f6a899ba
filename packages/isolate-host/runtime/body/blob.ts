/**
 * Blob and File (W3C File API, https://w3c.github.io/FileAPI/): immutable
 * bytes with a type. The bytes are held in one Uint8Array that no script can
 * reach (every read hands out a copy), so slices and bodies share it safely.
 */
import { asInterface } from "../webidl-interface.js";
import { type ReadableStream, utf8Decode, utf8Encode, webStreams } from "./deps.js";
import {
  dictionaryOf,
  iterableOf,
  toClampedInteger,
  toDOMString,
  toLongLong,
  toUSVString,
} from "./webidl.js";

/** Chunk size of Blob.stream(). */
const STREAM_CHUNK = 64 * 1024;

let bytesOf: (blob: Blob) => Uint8Array;
let fromBytes: (bytes: Uint8Array, type: string) => Blob;

/**
 * A type as the File API keeps it: empty when it has characters outside
 * U+0020–U+007E, else ASCII-lowercased. `keepParameterCase` lower-cases only
 * what comes before the first ";", as WPT expects of the File constructor
 * (`text/plain;charset=UTF-8` stays as it is there, not in Blob or slice()).
 */
export function normalizeBlobType(type: string, keepParameterCase = false): string {
  if (!/^[\x20-\x7e]*$/.test(type)) return "";
  const semicolon = keepParameterCase ? type.indexOf(";") : -1;
  return semicolon === -1
    ? type.toLowerCase()
    : type.slice(0, semicolon).toLowerCase() + type.slice(semicolon);
}

function convertEndings(text: string, endings: string): string {
  return endings === "native" ? text.replace(/\r\n|\r/g, "\n") : text;
}

function readEndings(options: Record<string, unknown> | null): string {
  const raw = options?.endings;
  if (raw === undefined) return "transparent";
  const endings = toDOMString(raw);
  if (endings !== "transparent" && endings !== "native")
    throw new TypeError(`The provided value '${endings}' is not a valid enum value of type EndingType.`);
  return endings;
}

/** Step one of the constructors: each part converted, in order (this is where script code may run). */
function convertParts(parts: unknown, what: string): Array<Uint8Array | string> {
  const converted: Array<Uint8Array | string> = [];
  if (parts === undefined) return converted;
  for (const part of iterableOf(parts, what)) {
    if (part instanceof Blob) converted.push(bytesOf(part));
    else if (part instanceof ArrayBuffer) converted.push(new Uint8Array(part.slice(0)));
    else if (ArrayBuffer.isView(part))
      converted.push(new Uint8Array(part.buffer, part.byteOffset, part.byteLength).slice());
    else converted.push(toUSVString(part));
  }
  return converted;
}

/** The converted parts joined into one byte array, strings UTF-8 encoded after line-ending conversion. */
function assemble(parts: Array<Uint8Array | string>, endings: string): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "string" ? utf8Encode(convertEndings(part, endings)) : part,
  );
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** What a constructor hands its Blob once every argument is converted. */
interface Contents {
  bytes: Uint8Array;
  type: string;
}

interface FileContents extends Contents {
  name: string;
  lastModified: number;
}

const INTERNAL = Symbol("internal");

export class Blob {
  #bytes: Uint8Array;
  #type: string;

  static {
    bytesOf = (blob) => blob.#bytes;
    fromBytes = (bytes, type) =>
      new Blob(INTERNAL as unknown as undefined, { bytes, type } as unknown as { type: string });
  }

  constructor(blobParts?: Iterable<unknown>, options?: { type?: string; endings?: string }) {
    if ((blobParts as unknown) === INTERNAL) {
      const contents = options as unknown as Contents;
      this.#bytes = contents.bytes;
      this.#type = contents.type;
      return;
    }
    const parts = convertParts(blobParts, "The blobParts argument");
    // The BlobPropertyBag's members in lexicographic order: endings, type.
    const dictionary = dictionaryOf(options, "The options argument");
    const endings = readEndings(dictionary);
    const type = dictionary?.type;
    this.#bytes = assemble(parts, endings);
    this.#type = type === undefined ? "" : normalizeBlobType(toDOMString(type));
  }

  get size(): number {
    return this.#bytes.byteLength;
  }

  get type(): string {
    return this.#type;
  }

  slice(start?: unknown, end?: unknown, contentType?: unknown): Blob {
    const size = this.#bytes.byteLength;
    const relative = (value: unknown, fallback: number): number => {
      if (value === undefined) return fallback;
      const n = toClampedInteger(value);
      return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    };
    const from = relative(start, 0);
    const to = relative(end, size);
    const type = contentType === undefined ? "" : normalizeBlobType(toDOMString(contentType));
    return fromBytes(this.#bytes.subarray(from, Math.max(from, to)), type);
  }

  async text(): Promise<string> {
    return utf8Decode(this.#bytes);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes.slice().buffer as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#bytes.slice();
  }

  stream(): ReadableStream {
    const bytes = this.#bytes;
    let offset = 0;
    const { ReadableStream } = webStreams();
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        if (offset >= bytes.byteLength) {
          controller.close();
          controller.byobRequest?.respond(0);
          return;
        }
        const request = controller.byobRequest;
        if (request?.view) {
          const view = new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength);
          const n = Math.min(view.byteLength, bytes.byteLength - offset);
          view.set(bytes.subarray(offset, offset + n));
          offset += n;
          request.respond(n);
          return;
        }
        const n = Math.min(STREAM_CHUNK, bytes.byteLength - offset);
        controller.enqueue(bytes.slice(offset, offset + n));
        offset += n;
      },
    });
  }
}

export class File extends Blob {
  #name: string;
  #lastModified: number;

  constructor(
    ...args: [
      fileBits: Iterable<unknown>,
      fileName: string,
      options?: { type?: string; endings?: string; lastModified?: number },
    ]
  ) {
    if (args.length < 2)
      throw new TypeError(
        `Failed to construct 'File': 2 arguments required, but only ${args.length} present.`,
      );
    const [fileBits, fileName, options] = args;
    if ((fileBits as unknown) === INTERNAL) {
      // The runtime's own File (multipart parsing): bytes it owns, no conversions.
      const contents = fileName as unknown as FileContents;
      super(INTERNAL as unknown as undefined, contents as unknown as { type: string });
      this.#name = contents.name;
      this.#lastModified = contents.lastModified;
      return;
    }
    const parts = convertParts(fileBits, "The fileBits argument");
    const name = toUSVString(fileName);
    // The FilePropertyBag's members in lexicographic order: endings, lastModified, type.
    const dictionary = dictionaryOf(options, "The options argument");
    const endings = readEndings(dictionary);
    const modified = dictionary?.lastModified;
    const lastModified = modified === undefined ? Date.now() : toLongLong(modified);
    const type = dictionary?.type;
    const contents: Contents = {
      bytes: assemble(parts, endings),
      type: type === undefined ? "" : normalizeBlobType(toDOMString(type), true),
    };
    super(INTERNAL as unknown as undefined, contents as unknown as { type: string });
    this.#name = name;
    this.#lastModified = lastModified;
  }

  get name(): string {
    return this.#name;
  }

  get lastModified(): number {
    return this.#lastModified;
  }

  get webkitRelativePath(): string {
    return "";
  }
}

asInterface(Blob, "Blob", 0);
asInterface(File, "File", 2);

/** The blob's bytes, shared (never mutated): for bodies and multipart serialisation. */
export function blobBytes(blob: Blob): Uint8Array {
  return bytesOf(blob);
}

/** A Blob over bytes the runtime owns (Body.blob()). */
export function blobFromBytes(bytes: Uint8Array, type: string): Blob {
  return fromBytes(bytes, normalizeBlobType(type, true));
}

/** A File holding a copy of `bytes` (multipart parsing): one copy, no conversions. */
export function fileFromBytes(bytes: Uint8Array, name: string, type: string): File {
  const contents: FileContents = {
    bytes: bytes.slice(),
    type: normalizeBlobType(type, true),
    name,
    lastModified: Date.now(),
  };
  return new File(INTERNAL as unknown as Iterable<unknown>, contents as unknown as string);
}
