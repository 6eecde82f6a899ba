/**
 * Cloudflare's `crypto.DigestStream`: a WritableStream whose `digest` promise
 * resolves to the hash (an ArrayBuffer) of every chunk written, once the
 * stream is closed. Chunks are hashed incrementally on the host, so the data
 * is never held whole.
 */
import { copyBytes, domString, isBufferSource } from "./convert.js";
import { deps, domException } from "./deps.js";
import { hostCrypto } from "./subtle.js";

const HASHES = new Set(["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"]);

function hashName(algorithm: unknown): string {
  const raw =
    typeof algorithm === "object" && algorithm !== null ? (algorithm as { name?: unknown }).name : algorithm;
  const name = domString(raw).toUpperCase();
  if (!HASHES.has(name))
    throw domException(`Unrecognized hash algorithm: ${domString(raw)}`, "NotSupportedError");
  return name;
}

function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === "string") return deps().encodeUtf8(chunk);
  if (isBufferSource(chunk)) return copyBytes(chunk, "chunk");
  throw new TypeError("DigestStream accepts only ArrayBuffer, ArrayBufferView or string chunks");
}

type DigestStreamClass = new (algorithm: unknown) => object & { readonly digest: Promise<ArrayBuffer> };
let built: DigestStreamClass | null = null;

/** The class, built on first use on the core's WritableStream (which loads the streams part). */
export function digestStreamClass(): DigestStreamClass {
  if (built !== null) return built;
  const WritableStream = deps().writableStream();
  class DigestStream extends WritableStream {
    readonly #digest: Promise<ArrayBuffer>;

    constructor(algorithm: unknown) {
      const name = hashName(algorithm);
      let resolve!: (value: ArrayBuffer) => void;
      let reject!: (reason: unknown) => void;
      const digest = new Promise<ArrayBuffer>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Nobody may ever read `digest` of an aborted stream: not an unhandled rejection.
      digest.catch(() => {});
      let handle: Promise<number> | null = null;
      const started = (): Promise<number> => {
        handle ??= hostCrypto("hashStart", [name]) as Promise<number>;
        return handle;
      };
      super({
        write(chunk: unknown) {
          const bytes = chunkBytes(chunk);
          return started().then((id) => hostCrypto("hashUpdate", [id, bytes]));
        },
        close() {
          return started()
            .then((id) => hostCrypto("hashFinish", [id]))
            .then((bytes) => resolve(bytes as ArrayBuffer), reject);
        },
        abort(reason: unknown) {
          reject(reason);
        },
      });
      this.#digest = digest;
    }

    get digest(): Promise<ArrayBuffer> {
      return this.#digest;
    }
  }
  built = DigestStream as unknown as DigestStreamClass;
  return built;
}
