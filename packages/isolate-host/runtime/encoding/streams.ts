/**
 * TextEncoderStream and TextDecoderStream (WHATWG Encoding Standard §7): a
 * TransformStream around the runtime's TextEncoder/TextDecoder. The streams
 * implementation loads on first construction (runtime/lazy.ts).
 */
import { webStreams } from "../streams.js";
import { TextDecoder, utf8Encode } from "../text-encoding.js";

interface Transform {
  readonly readable: unknown;
  readonly writable: unknown;
}
interface Controller {
  enqueue(chunk: unknown): void;
}

function transformStream(
  transform: (chunk: unknown, c: Controller) => void,
  flush: (c: Controller) => void,
): Transform {
  const { TransformStream } = webStreams();
  return new TransformStream({ transform, flush }) as unknown as Transform;
}

const isShared = (buffer: unknown): boolean =>
  Object.prototype.toString.call(buffer) === "[object SharedArrayBuffer]";

/** A BufferSource without [AllowShared]: shared memory is refused; a detached buffer reads as empty. */
function bufferSource(chunk: unknown): Uint8Array {
  const buffer = ArrayBuffer.isView(chunk) ? chunk.buffer : chunk;
  if ((chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) && !isShared(buffer)) {
    if ((buffer as { detached?: boolean }).detached === true) return new Uint8Array(0);
    return ArrayBuffer.isView(chunk)
      ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      : new Uint8Array(chunk as ArrayBuffer);
  }
  throw new TypeError("TextDecoderStream chunks must be ArrayBuffer or ArrayBufferView, not shared");
}

export class TextDecoderStream {
  readonly #decoder: TextDecoder;
  readonly #transform: Transform;

  constructor(label: unknown = "utf-8", options: unknown = undefined) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#transform = transformStream(
      (chunk, controller) => {
        const text = decoder.decode(bufferSource(chunk), { stream: true });
        if (text !== "") controller.enqueue(text);
      },
      (controller) => {
        const text = decoder.decode();
        if (text !== "") controller.enqueue(text);
      },
    );
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }
  get fatal(): boolean {
    return this.#decoder.fatal;
  }
  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }
  get readable(): unknown {
    return this.#transform.readable;
  }
  get writable(): unknown {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag](): string {
    return "TextDecoderStream";
  }
}

export class TextEncoderStream {
  readonly #transform: Transform;

  constructor() {
    // A high surrogate ending one chunk may pair with a low surrogate starting the next.
    let pendingHigh = "";
    this.#transform = transformStream(
      (chunk, controller) => {
        let text = `${pendingHigh}${chunk as string}`;
        pendingHigh = "";
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pendingHigh = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text !== "") controller.enqueue(utf8Encode(text));
      },
      (controller) => {
        if (pendingHigh !== "") controller.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
      },
    );
  }

  get encoding(): string {
    return "utf-8";
  }
  get readable(): unknown {
    return this.#transform.readable;
  }
  get writable(): unknown {
    return this.#transform.writable;
  }
  get [Symbol.toStringTag](): string {
    return "TextEncoderStream";
  }
}
