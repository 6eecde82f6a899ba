/**
 * CompressionStream and DecompressionStream (WHATWG Compression Standard):
 * a readable/writable pair whose zlib work the host does, one piece at a
 * time, through the zlibOpen/zlibWrite/zlibEnd/zlibClose operations
 * (src/host/compression.ts). The host opens its side on the first piece.
 */
import { hostCall } from "../host.js";
import { webStreams } from "../streams.js";

const FORMATS = new Set(["gzip", "deflate", "deflate-raw"]);
/** Kept in step with src/host/compression.ts (MAX_INPUT_BYTES, DECOMPRESS_PIECE_BYTES). */
const COMPRESS_PIECE = 64 * 1024;
const DECOMPRESS_PIECE = 4 * 1024;

interface Pair {
  readonly readable: unknown;
  readonly writable: unknown;
}

function formatArg(value: unknown, what: string): string {
  const format = `${value as string}`;
  if (!FORMATS.has(format)) {
    throw new TypeError(`Failed to construct '${what}': Unsupported compression format: '${format}'`);
  }
  return format;
}

/** A BufferSource without [AllowShared]: shared memory is refused; a detached buffer reads as empty. */
function bytesOf(chunk: unknown): Uint8Array {
  const buffer = ArrayBuffer.isView(chunk) ? chunk.buffer : chunk;
  const shared = Object.prototype.toString.call(buffer) === "[object SharedArrayBuffer]";
  if (shared || !(chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk))) {
    throw new TypeError("The chunk is not an ArrayBuffer or ArrayBufferView (shared memory is not accepted)");
  }
  if ((buffer as { detached?: boolean }).detached === true) return new Uint8Array(0);
  return ArrayBuffer.isView(chunk)
    ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    : new Uint8Array(chunk as ArrayBuffer);
}

/** Host failures (bad data, limits) arrive as plain errors; the stream errors with a TypeError, as the standard's do. */
function host(op: string, a: unknown, b?: unknown): unknown {
  try {
    return hostCall(op, a, b);
  } catch (err) {
    throw new TypeError(String((err as { message?: unknown }).message));
  }
}

/**
 * A readable/writable pair rather than a TransformStream: the readable side
 * runs zlib one piece per pull, so output is made only as fast as the script
 * reads it (a decompression bomb read and discarded never piles up), and a
 * write settles once the reader has taken all of its input.
 */
function zlibPair(format: string, mode: "compress" | "decompress"): Pair {
  const piece = mode === "compress" ? COMPRESS_PIECE : DECOMPRESS_PIECE;
  const { ReadableStream, WritableStream } = webStreams();
  const queue: Uint8Array[] = [];
  let id: number | null = null;
  let closing = false;
  let failure: { reason: unknown } | null = null;
  let readerWaiting: (() => void) | null = null;
  let drained: { resolve(): void; reject(reason: unknown): void } | null = null;
  let readableController: { enqueue(chunk: Uint8Array): void; close(): void; error(reason: unknown): void };
  let writableController: { error(reason: unknown): void };

  const wakeReader = (): void => {
    const wake = readerWaiting;
    readerWaiting = null;
    wake?.();
  };
  const stop = (): void => {
    if (id !== null) hostCall("zlibClose", id);
    id = null;
  };
  const fail = (reason: unknown, side: "readable" | "writable" | "both"): void => {
    if (failure !== null) return;
    failure = { reason };
    stop();
    if (side !== "writable") readableController.error(reason);
    if (side !== "readable") writableController.error(reason);
    drained?.reject(reason);
    drained = null;
    wakeReader();
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readableController = controller;
      },
      async pull(controller) {
        try {
          for (;;) {
            if (failure !== null) return;
            const next = queue.shift();
            if (next !== undefined) {
              id ??= host("zlibOpen", format, mode) as number;
              const output = host("zlibWrite", id, next) as Uint8Array;
              if (queue.length === 0) {
                drained?.resolve();
                drained = null;
              }
              if (output.byteLength > 0) {
                controller.enqueue(output);
                return;
              }
              continue;
            }
            if (closing) {
              id ??= host("zlibOpen", format, mode) as number;
              const output = host("zlibEnd", id) as Uint8Array;
              id = null;
              if (output.byteLength > 0) controller.enqueue(output);
              controller.close();
              return;
            }
            await new Promise<void>((resolve) => {
              readerWaiting = resolve;
            });
          }
        } catch (err) {
          fail(err, "both");
        }
      },
      cancel(reason) {
        fail(reason, "writable");
      },
    },
    { highWaterMark: 0 },
  );

  const writable = new WritableStream<unknown>({
    start(controller) {
      writableController = controller;
    },
    write(chunk) {
      let bytes: Uint8Array;
      try {
        bytes = bytesOf(chunk);
      } catch (err) {
        fail(err, "readable");
        throw err;
      }
      if (bytes.byteLength === 0) return undefined;
      // Copies: the host must not see bytes the script changes after writing them.
      for (let at = 0; at < bytes.byteLength; at += piece) queue.push(bytes.slice(at, at + piece));
      const done = new Promise<void>((resolve, reject) => {
        drained = { resolve, reject };
      });
      wakeReader();
      return done;
    },
    close() {
      closing = true;
      wakeReader();
    },
    abort(reason) {
      fail(reason, "readable");
    },
  });
  return { readable, writable };
}

export class CompressionStream {
  readonly #transform: Pair;

  constructor(...args: unknown[]) {
    if (args.length < 1)
      throw new TypeError(
        "Failed to construct 'CompressionStream': 1 argument required, but only 0 present.",
      );
    this.#transform = zlibPair(formatArg(args[0], "CompressionStream"), "compress");
  }

  get readable(): unknown {
    return this.#transform.readable;
  }
  get writable(): unknown {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag](): string {
    return "CompressionStream";
  }
}

export class DecompressionStream {
  readonly #transform: Pair;

  constructor(...args: unknown[]) {
    if (args.length < 1)
      throw new TypeError(
        "Failed to construct 'DecompressionStream': 1 argument required, but only 0 present.",
      );
    this.#transform = zlibPair(formatArg(args[0], "DecompressionStream"), "decompress");
  }

  get readable(): unknown {
    return this.#transform.readable;
  }
  get writable(): unknown {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag](): string {
    return "DecompressionStream";
  }
}
