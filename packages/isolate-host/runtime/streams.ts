/**
 * Web streams from web-streams-polyfill (based on the WHATWG reference
 * implementation), a separate bundle loaded on first use (runtime/lazy.ts):
 * a script that never touches a stream never pays for loading it.
 */
import { loadLazy } from "./lazy.js";

type Polyfill = typeof import("web-streams-polyfill");
export type ReadableStream = InstanceType<Polyfill["ReadableStream"]>;
export type StreamReader = import("web-streams-polyfill").ReadableStreamDefaultReader<unknown>;

let loaded: Polyfill | null = null;

export function webStreams(): Polyfill {
  loaded ??= loadLazy<Polyfill>("streams");
  return loaded;
}

/** True only for the runtime's streams; false while none can exist yet. */
export function isReadableStream(value: unknown): value is ReadableStream {
  return loaded !== null && value instanceof loaded.ReadableStream;
}

/**
 * A body's stream: a byte stream, as the Fetch standard sets bodies up, so
 * BYOB readers work too. A default reader gets `bytes` as one chunk (its
 * buffer moves into the stream: callers hand over bytes nobody else holds).
 */
export function streamOfBytes(bytes: Uint8Array): ReadableStream {
  const { ReadableStream } = webStreams();
  let rest: Uint8Array | null = bytes.byteLength > 0 ? bytes : null;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (rest === null) {
        controller.close();
        request?.respond(0);
        return;
      }
      const view = request?.view;
      if (request && view) {
        const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        const n = Math.min(target.byteLength, rest.byteLength);
        target.set(rest.subarray(0, n));
        rest = n === rest.byteLength ? null : rest.subarray(n);
        request.respond(n);
        return;
      }
      const chunk = rest;
      rest = null;
      // Enqueuing transfers the buffer: a view on part of a larger one is copied first.
      controller.enqueue(
        chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice(),
      );
    },
  }) as ReadableStream;
}

/** The reference implementation's "disturbed" flag: read from or cancelled. */
export function isDisturbed(stream: ReadableStream): boolean {
  return (stream as unknown as { _disturbed?: boolean })._disturbed === true;
}

/** Copies a chunk a script enqueued into bytes; only BufferSources are allowed in bodies. */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError("A body stream chunk must be a Uint8Array, another ArrayBufferView or an ArrayBuffer");
}

export function concatBytes(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!.slice();
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a whole stream, failing with a RangeError past `maxBytes`. */
export async function readAllBytes(
  stream: ReadableStream,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const bytes = chunkBytes(value);
    total += bytes.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(bytes);
  }
  return concatBytes(chunks, total);
}

export class BodyTooLargeError extends RangeError {
  constructor(maxBytes: number) {
    super(`The body is larger than the ${maxBytes}-byte limit`);
    this.name = "BodyTooLargeError";
  }
}
