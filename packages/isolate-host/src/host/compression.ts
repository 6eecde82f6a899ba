import * as zlib from "node:zlib";
import { GzipMember, GzipMemberError } from "./gzip-member.js";
import type { HostOp, HostOpContext } from "./op.js";

/**
 * Host side of `runtime/compression/`: CompressionStream and
 * DecompressionStream on Node's zlib, one chunk at a time and synchronously.
 *
 * Bounded: the isolate hands over at most MAX_INPUT_BYTES per call (and
 * DECOMPRESS_PIECE_BYTES when decompressing, so deflate's ~1:1032 best ratio
 * stays under the output cap), one call never returns more than
 * MAX_OUTPUT_BYTES, and a request keeps at most MAX_OPEN_STREAMS open. Output
 * goes straight into the isolate, where it counts against the script's memory
 * limit; the host keeps nothing between calls but zlib's own state. Host time
 * is charged to the script by bytes processed.
 */

/** Largest chunk one call takes (the isolate splits bigger ones). */
export const MAX_INPUT_BYTES = 64 * 1024;
/** Largest piece of compressed input per call, so a call's output stays under MAX_OUTPUT_BYTES. */
export const DECOMPRESS_PIECE_BYTES = 4 * 1024;
/** Largest output of one call: a decompression bomb fails here rather than in the host's memory. */
export const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/** zlib keeps up to ~256 KiB of state per compressing stream, outside the isolate: few at once. */
export const MAX_OPEN_STREAMS = 16;

const MS_PER_BYTE_COMPRESS = 8 / (1024 * 1024);
const MS_PER_BYTE_DECOMPRESS = 2 / (1024 * 1024);

type Format = "gzip" | "deflate" | "deflate-raw";

const CREATE: Record<Format, Record<"compress" | "decompress", () => zlib.Zlib & NodeJS.EventEmitter>> = {
  // One gzip member only (Compression Standard): ./gzip-member.ts parses its framing around a raw inflate.
  gzip: { compress: () => zlib.createGzip(), decompress: () => zlib.createInflateRaw() },
  deflate: { compress: () => zlib.createDeflate(), decompress: () => zlib.createInflate() },
  "deflate-raw": { compress: () => zlib.createDeflateRaw(), decompress: () => zlib.createInflateRaw() },
};

/**
 * The internals of Node's zlib streams that its own *Sync functions use
 * (lib/zlib.js processChunkSync): the native handle's writeSync and the
 * [availOutAfter, availInAfter] state it fills.
 */
interface ZlibInternals {
  _handle: {
    writeSync(
      flush: number,
      input: Uint8Array,
      inOff: number,
      inLen: number,
      out: Uint8Array,
      outOff: number,
      outLen: number,
    ): void;
  } | null;
  _writeState: Uint32Array;
  _chunkSize: number;
  destroyed: boolean;
  close(): void;
  on(event: "error", listener: (err: Error) => void): void;
}

interface Stream {
  zlib: ZlibInternals;
  decompress: boolean;
  /** The gzip framing when decompressing gzip; null otherwise. */
  gzip: GzipMember | null;
  /** The (raw) deflate stream has ended: more compressed input is junk, or gzip's trailer. */
  ended: boolean;
}

/** Open streams per request, keyed by the request's operation context. */
const streamsOf = new WeakMap<HostOpContext, Map<number, Stream>>();
let nextId = 1;

function streams(ctx: HostOpContext): Map<number, Stream> {
  let map = streamsOf.get(ctx);
  if (map === undefined) {
    map = new Map();
    streamsOf.set(ctx, map);
  }
  return map;
}

function streamArg(ctx: HostOpContext, value: unknown): [number, Stream] {
  const id = Number(value);
  const stream = streams(ctx).get(id);
  if (stream === undefined) throw new TypeError("The compression stream is closed");
  return [id, stream];
}

function bytesArg(value: unknown, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError("chunk must be bytes");
  if (value.byteLength > max) throw new RangeError(`chunk is larger than ${max} bytes`);
  return value;
}

function fail(ctx: HostOpContext, id: number, stream: Stream, message: string): never {
  close(ctx, id, stream);
  throw new TypeError(message);
}

function close(ctx: HostOpContext, id: number, stream: Stream): void {
  streams(ctx).delete(id);
  stream.zlib.close();
}

/**
 * Runs zlib over `input` with `flush`, collecting all the output it produces;
 * `leftover` counts the input it did not take because its stream had ended.
 */
function run(
  ctx: HostOpContext,
  id: number,
  stream: Stream,
  input: Uint8Array,
  flush: number,
): { output: Uint8Array; leftover: number } {
  const { zlib: z } = stream;
  const handle = z._handle;
  if (handle === null) fail(ctx, id, stream, "The compression stream is closed");
  const chunkSize = z._chunkSize;
  const parts: Uint8Array[] = [];
  let total = 0;
  let inOff = 0;
  let availIn = input.byteLength;
  for (;;) {
    const out = new Uint8Array(chunkSize);
    handle.writeSync(flush, input, inOff, availIn, out, 0, chunkSize);
    // zlib reports bad or truncated data by destroying the stream from inside writeSync.
    if (z.destroyed) fail(ctx, id, stream, "The compressed data is invalid or truncated");
    const availOutAfter = z._writeState[0]!;
    const availInAfter = z._writeState[1]!;
    const produced = chunkSize - availOutAfter;
    if (produced > 0) {
      total += produced;
      if (total > MAX_OUTPUT_BYTES) {
        fail(ctx, id, stream, `Decompressed data grew past ${MAX_OUTPUT_BYTES} bytes from one input chunk`);
      }
      parts.push(out.subarray(0, produced));
    }
    inOff += availIn - availInAfter;
    availIn = availInAfter;
    if (availOutAfter !== 0) break;
  }
  const charged = stream.decompress
    ? total * MS_PER_BYTE_DECOMPRESS
    : input.byteLength * MS_PER_BYTE_COMPRESS;
  ctx.charge(0.002 + charged);
  if (parts.length === 1) return { output: parts[0]!, leftover: availIn };
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  return { output: joined, leftover: availIn };
}

/** Decompresses one piece: the gzip header first when there is one, then the deflate body, then the trailer. */
function decompressPiece(ctx: HostOpContext, id: number, stream: Stream, piece: Uint8Array): Uint8Array {
  const input = stream.gzip === null ? piece : stream.gzip.takeHeader(piece);
  if (input === null || input.length === 0) return new Uint8Array(0);
  if (stream.ended) {
    if (stream.gzip === null) fail(ctx, id, stream, "Junk found after the end of the compressed data");
    stream.gzip.bodyEnded(input);
    return new Uint8Array(0);
  }
  const { output, leftover } = run(ctx, id, stream, input, zlib.constants.Z_NO_FLUSH);
  stream.gzip?.inflated(output);
  if (leftover > 0) {
    // Input left over with output room to spare: the deflate stream ended before it.
    stream.ended = true;
    if (stream.gzip === null) fail(ctx, id, stream, "Junk found after the end of the compressed data");
    stream.gzip.bodyEnded(input.subarray(input.length - leftover));
  }
  return output;
}

/** Runs `step`, turning a gzip framing error into the stream's failure. */
function framed<T>(ctx: HostOpContext, id: number, stream: Stream, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof GzipMemberError) fail(ctx, id, stream, err.message);
    throw err;
  }
}

/** zlibOpen(format, mode): a stream id. */
const zlibOpen: HostOp = (ctx, a, b) => {
  if (a !== "gzip" && a !== "deflate" && a !== "deflate-raw")
    throw new TypeError("Unsupported compression format");
  if (b !== "compress" && b !== "decompress") throw new TypeError("Unknown compression mode");
  const open = streams(ctx);
  if (open.size >= MAX_OPEN_STREAMS)
    throw new RangeError(
      `A request may not have more than ${MAX_OPEN_STREAMS} compression streams in use at once`,
    );
  const z = CREATE[a][b]() as unknown as ZlibInternals;
  // Errors are seen synchronously through `destroyed`; the stream's own error event is not needed.
  z.on("error", () => {});
  const id = nextId++;
  const decompress = b === "decompress";
  const gzip = decompress && a === "gzip" ? new GzipMember() : null;
  open.set(id, { zlib: z, decompress, gzip, ended: false });
  ctx.charge(0.01);
  return id;
};

/** zlibWrite(id, bytes): the output for that input. */
const zlibWrite: HostOp = (ctx, a, b) => {
  const [id, stream] = streamArg(ctx, a);
  const input = bytesArg(b, stream.decompress ? DECOMPRESS_PIECE_BYTES : MAX_INPUT_BYTES);
  if (!stream.decompress) return run(ctx, id, stream, input, zlib.constants.Z_NO_FLUSH).output;
  return framed(ctx, id, stream, () => decompressPiece(ctx, id, stream, input));
};

/** zlibEnd(id): the last output; fails when compressed input was truncated. Closes the stream. */
const zlibEnd: HostOp = (ctx, a) => {
  const [id, stream] = streamArg(ctx, a);
  const output = framed(ctx, id, stream, () => {
    const { gzip } = stream;
    // Still in the gzip header (or no input at all): truncated.
    if (gzip !== null && !gzip.inBody && !stream.ended) gzip.finish();
    const last = stream.ended
      ? new Uint8Array(0)
      : run(ctx, id, stream, new Uint8Array(0), zlib.constants.Z_FINISH).output;
    if (gzip !== null) {
      gzip.inflated(last);
      if (!stream.ended) gzip.bodyEnded(new Uint8Array(0));
      gzip.finish();
    }
    return last;
  });
  close(ctx, id, stream);
  return output;
};

/** zlibClose(id): drops a stream the script cancelled. */
const zlibClose: HostOp = (ctx, a) => {
  const id = Number(a);
  const stream = streams(ctx).get(id);
  if (stream !== undefined) close(ctx, id, stream);
  return undefined;
};

/** Closes the streams a request left open (called when its bridge closes). */
export function closeCompressionStreams(ctx: HostOpContext): void {
  const open = streamsOf.get(ctx);
  if (open === undefined) return;
  for (const stream of open.values()) stream.zlib.close();
  streamsOf.delete(ctx);
}

export const compressionOps = { zlibOpen, zlibWrite, zlibEnd, zlibClose } satisfies Record<string, HostOp>;
