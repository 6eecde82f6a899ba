import { createHash, type Hash, webcrypto } from "node:crypto";
import {
  estimateMs,
  type KeyFacts,
  MAX_DERIVE_BITS,
  MAX_OPERATION_BYTES,
  MAX_PBKDF2_ITERATIONS,
  MAX_PBKDF2_WORK,
  MAX_RSA_IMPORT_BITS,
  MAX_RSA_MODULUS_BITS,
  pbkdf2Work,
} from "./crypto-cost.js";
import { EXPENSIVE_MS, expensiveSlots } from "./crypto-slots.js";

/**
 * Host side of `runtime/crypto/subtle.ts`: SubtleCrypto's operations run by
 * Node's WebCrypto (node:crypto `webcrypto.subtle`), which follows the W3C
 * spec's algorithm steps, and `crypto.DigestStream`'s incremental hashes.
 *
 * Keys live here, in a per-request table: the isolate only holds a number
 * (in a private field of its CryptoKey) that names a key of its own request,
 * and the table is dropped when the request ends. Operations queue per
 * request (at most MAX_RUNNING at once in the thread pool), each is charged
 * to the script before it starts, and inputs are bounded.
 */

type NodeKey = webcrypto.CryptoKey;

export interface CryptoHostCalls {
  charge(ms: number): void;
  complete(id: number, ok: boolean, value: unknown): void;
}

/** Each method's number of arguments, and which of them are CryptoKey handles. */
const METHODS: Record<string, { arity: number; keys: readonly number[] }> = {
  digest: { arity: 2, keys: [] },
  generateKey: { arity: 3, keys: [] },
  importKey: { arity: 5, keys: [] },
  exportKey: { arity: 2, keys: [1] },
  sign: { arity: 3, keys: [1] },
  verify: { arity: 4, keys: [1] },
  encrypt: { arity: 3, keys: [1] },
  decrypt: { arity: 3, keys: [1] },
  deriveBits: { arity: 3, keys: [1] },
  deriveKey: { arity: 5, keys: [1] },
  wrapKey: { arity: 4, keys: [1, 2] },
  unwrapKey: { arity: 7, keys: [2] },
  hashStart: { arity: 1, keys: [] },
  hashUpdate: { arity: 2, keys: [] },
  hashFinish: { arity: 1, keys: [] },
};
const HASHES: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

const MAX_KEYS = 10_000;
/** What a refused operation is charged. */
const MIN_CHARGE_MS = 0.02;
const MAX_HASHES = 256;
const MAX_RUNNING = 2;
const MAX_QUEUED = 10_000;
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** Estimated key material a request may hold on the host (keys live until the request ends). */
const MAX_KEY_BYTES = 64 * 1024 * 1024;
/** Least weight of one key: Node's and OpenSSL's bookkeeping. */
const KEY_OVERHEAD_BYTES = 512;

interface Job {
  id: number;
  method: string;
  args: unknown[];
  bytes: number;
}

function isExpensive(job: Job): boolean {
  if (job.method !== "generateKey" && job.method !== "deriveBits" && job.method !== "deriveKey") return false;
  const lengthBits = derivedBits(job.method, job.args);
  return estimateMs(job.method, job.args[0], 0, undefined, lengthBits) > EXPENSIVE_MS;
}

/** An error the isolate turns back into a DOMException (or TypeError) of the same name. */
class CryptoFailure extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

/** Node's CryptoKey class (a global since Node 17; the same class webcrypto.subtle returns). */
const NodeCryptoKey = (globalThis as unknown as { CryptoKey: abstract new () => NodeKey }).CryptoKey;

function isNodeKey(value: unknown): value is NodeKey {
  return value instanceof NodeCryptoKey;
}

/** Total bytes in an argument tree (bounded depth and width: the isolate builds simple shapes). */
function byteCount(value: unknown, depth = 0): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (typeof value !== "object" || value === null) return typeof value === "string" ? value.length : 0;
  if (depth > 4) throw new CryptoFailure("Argument nested too deeply", "OperationError");
  const entries = Array.isArray(value) ? value : Object.values(value);
  if (entries.length > 1000) throw new CryptoFailure("Argument too large", "OperationError");
  let total = 0;
  for (const entry of entries) total += byteCount(entry, depth + 1);
  return total;
}

function upperName(algorithm: unknown): string {
  if (typeof algorithm === "string") return algorithm.toUpperCase();
  const name = (algorithm as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name.toUpperCase() : "";
}

function keyFacts(key: NodeKey | undefined): KeyFacts | undefined {
  if (key === undefined) return undefined;
  return key.algorithm as KeyFacts;
}

function describeAlgorithm(algorithm: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: algorithm.name };
  for (const member of ["namedCurve", "length", "modulusLength"] as const) {
    if (algorithm[member] !== undefined) out[member] = algorithm[member];
  }
  if (algorithm.publicExponent instanceof Uint8Array)
    out.publicExponent = new Uint8Array(algorithm.publicExponent);
  const hash = algorithm.hash as { name?: unknown } | undefined;
  if (hash !== undefined) out.hash = { name: hash.name };
  return out;
}

/** Bits a derivation produces: deriveBits' length, or the derived key's length (512 when unstated). */
function derivedBits(method: string, args: unknown[]): number {
  if (method === "deriveBits") return typeof args[2] === "number" ? args[2] : 0;
  if (method !== "deriveKey") return 0;
  const length = (args[2] as { length?: unknown } | null)?.length;
  return typeof length === "number" && Number.isFinite(length) ? length : 512;
}

function toBytes(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

export class CryptoHost {
  readonly #calls: CryptoHostCalls;
  readonly #keys = new Map<number, NodeKey>();
  #keyBytes = 0;
  readonly #hashes = new Map<number, Hash>();
  readonly #queue: Job[] = [];
  #queuedBytes = 0;
  #running = 0;
  #nextHandle = 1;
  #closed = false;

  constructor(calls: CryptoHostCalls) {
    this.#calls = calls;
  }

  /** Queues one operation `{ method, args }` asked by the isolate; its result goes back through complete(id). */
  start(id: unknown, request: unknown): void {
    const key = Number(id);
    if (this.#closed || !Number.isSafeInteger(key)) return;
    try {
      const { method, args } = (request ?? {}) as { method?: unknown; args?: unknown };
      const shape = typeof method === "string" ? METHODS[method] : undefined;
      if (shape === undefined || !Array.isArray(args) || args.length !== shape.arity)
        throw new CryptoFailure("Unknown crypto operation", "TypeError");
      const bytes = byteCount(args);
      if (bytes > MAX_OPERATION_BYTES)
        throw new CryptoFailure(
          `The input is larger than the ${MAX_OPERATION_BYTES}-byte limit for one crypto operation`,
          "OperationError",
        );
      if (this.#queue.length >= MAX_QUEUED || this.#queuedBytes + bytes > MAX_QUEUED_BYTES)
        throw new CryptoFailure("Too many crypto operations are pending", "OperationError");
      this.#queue.push({ id: key, method: method as string, args, bytes });
      this.#queuedBytes += bytes;
      this.#pump();
    } catch (err) {
      this.#calls.complete(key, false, failureOf(err));
    }
  }

  /** Drops the request's keys, hashes and pending operations. */
  close(): void {
    this.#closed = true;
    expensiveSlots.forget(this.#wake);
    this.#queue.length = 0;
    this.#keys.clear();
    this.#keyBytes = 0;
    this.#hashes.clear();
  }

  #pump(): void {
    while (!this.#closed && this.#running < MAX_RUNNING && this.#queue.length > 0) {
      const next = this.#queue[0] as Job;
      const expensive = isExpensive(next);
      if (expensive && !expensiveSlots.take(this.#wake)) return;
      this.#queue.shift();
      this.#queuedBytes -= next.bytes;
      this.#running++;
      this.#run(next).finally(() => {
        this.#running--;
        if (expensive) expensiveSlots.release();
        this.#pump();
      });
    }
  }

  readonly #wake = (): void => this.#pump();

  async #run(job: Job): Promise<void> {
    let ok = true;
    let value: unknown;
    try {
      value = await this.#perform(job);
    } catch (err) {
      ok = false;
      value = failureOf(err);
    }
    if (!this.#closed) this.#calls.complete(job.id, ok, value);
  }

  async #perform({ method, args, bytes }: Job): Promise<unknown> {
    if (method.startsWith("hash")) return this.#hashStep(method, args);
    for (const index of METHODS[method]?.keys ?? []) args[index] = this.#key(args[index]);
    const algorithmIndex = method === "wrapKey" || method === "unwrapKey" ? 3 : 0;
    const algorithm = args[algorithmIndex];
    const primaryKey = args[method === "unwrapKey" ? 2 : 1];
    if ((method === "deriveBits" || method === "deriveKey") && typeof algorithm === "object" && algorithm) {
      const params = algorithm as { public?: unknown };
      if (typeof params.public === "number") params.public = this.#key(params.public);
    }
    const lengthBits = derivedBits(method, args);
    this.#checkPolicy(method, algorithm, lengthBits);
    if (method === "digest" && upperName(algorithm) === "MD5") {
      // Cloudflare's non-standard MD5 digest, which WebCrypto does not have.
      this.#calls.charge(estimateMs(method, algorithm, bytes, undefined, 0));
      return {
        bytes: new Uint8Array(
          createHash("md5")
            .update(args[1] as Uint8Array)
            .digest(),
        ),
      };
    }
    const estimate = estimateMs(
      method,
      algorithm,
      bytes,
      keyFacts(isNodeKey(primaryKey) ? primaryKey : undefined),
      lengthBits,
    );
    const operation = (webcrypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
      method
    ] as (...a: unknown[]) => Promise<unknown>;
    let result: unknown;
    try {
      result = await operation.apply(webcrypto.subtle, args);
    } catch (err) {
      // A key generation refused (bad usages) never did the work its estimate is made of; other
      // operations may fail after it (a tag mismatch after decrypting 16 MiB) and pay in full.
      this.#calls.charge(method === "generateKey" ? MIN_CHARGE_MS : estimate);
      throw err;
    }
    this.#calls.charge(estimate);
    return this.#encode(result, bytes);
  }

  /** Bounds beyond the spec's: expensive sizes a script could use to hold the thread pool. */
  #checkPolicy(method: string, algorithm: unknown, lengthBits: number): void {
    const name = upperName(algorithm);
    const params = (typeof algorithm === "object" && algorithm !== null ? algorithm : {}) as Record<
      string,
      unknown
    >;
    if (method === "generateKey" && name.startsWith("RSA") && typeof params.modulusLength === "number") {
      if (params.modulusLength > MAX_RSA_MODULUS_BITS)
        throw new CryptoFailure(
          `RSA keys larger than ${MAX_RSA_MODULUS_BITS} bits are not supported`,
          "NotSupportedError",
        );
    }
    if (method === "generateKey" && name === "HMAC" && typeof params.length === "number") {
      if (params.length > MAX_OPERATION_BYTES * 8)
        throw new CryptoFailure("The HMAC key length is too large", "OperationError");
    }
    if ((method === "deriveBits" || method === "deriveKey") && name === "PBKDF2") {
      if (typeof params.iterations === "number" && params.iterations > MAX_PBKDF2_ITERATIONS)
        throw new CryptoFailure(
          `PBKDF2 iteration counts above ${MAX_PBKDF2_ITERATIONS} are not supported`,
          "NotSupportedError",
        );
      if (pbkdf2Work(algorithm, lengthBits) > MAX_PBKDF2_WORK)
        throw new CryptoFailure(
          `PBKDF2 is limited to ${MAX_PBKDF2_WORK} iterations times output blocks`,
          "NotSupportedError",
        );
    }
    if (lengthBits > MAX_DERIVE_BITS)
      throw new CryptoFailure(`deriveBits is limited to ${MAX_DERIVE_BITS} bits`, "OperationError");
  }

  #key(handle: unknown): NodeKey {
    const key = typeof handle === "number" ? this.#keys.get(handle) : undefined;
    if (key === undefined) throw new CryptoFailure("The key is not a CryptoKey of this request", "TypeError");
    return key;
  }

  /** `inputBytes`: the operation's input, a bound on the material an imported key holds. */
  #register(key: NodeKey, inputBytes: number): Record<string, unknown> {
    const algorithm = key.algorithm as unknown as Record<string, unknown>;
    if (typeof algorithm.modulusLength === "number" && algorithm.modulusLength > MAX_RSA_IMPORT_BITS)
      throw new CryptoFailure(
        `RSA keys larger than ${MAX_RSA_IMPORT_BITS} bits are not supported`,
        "NotSupportedError",
      );
    if (this.#keys.size >= MAX_KEYS)
      throw new CryptoFailure(`A request may hold at most ${MAX_KEYS} keys`, "OperationError");
    const lengthBytes = Math.ceil(Number(algorithm.length ?? 0) / 8);
    const modulusBytes = Math.ceil(Number(algorithm.modulusLength ?? 0) / 8) * 5;
    const weight = KEY_OVERHEAD_BYTES + Math.max(inputBytes, lengthBytes, modulusBytes);
    if (this.#keyBytes + weight > MAX_KEY_BYTES)
      throw new CryptoFailure("The request's keys hold too much key material", "OperationError");
    this.#keyBytes += weight;
    const handle = this.#nextHandle++;
    this.#keys.set(handle, key);
    return {
      handle,
      type: key.type,
      extractable: key.extractable,
      algorithm: describeAlgorithm(algorithm),
      usages: [...key.usages],
    };
  }

  #encode(result: unknown, inputBytes: number): unknown {
    if (isNodeKey(result)) return { key: this.#register(result, inputBytes) };
    if (result instanceof ArrayBuffer) return { bytes: toBytes(result) };
    if (typeof result === "boolean") return { boolean: result };
    if (typeof result === "object" && result !== null) {
      const pair = result as { publicKey?: unknown; privateKey?: unknown };
      if (isNodeKey(pair.publicKey) && isNodeKey(pair.privateKey))
        return {
          pair: {
            publicKey: this.#register(pair.publicKey, inputBytes),
            privateKey: this.#register(pair.privateKey, inputBytes),
          },
        };
      // A JsonWebKey from exportKey: plain strings, booleans and arrays of them.
      return { jwk: JSON.parse(JSON.stringify(result)) };
    }
    throw new CryptoFailure("Unexpected crypto result", "OperationError");
  }

  #hashStep(method: string, args: unknown[]): unknown {
    if (method === "hashStart") {
      const algorithm = typeof args[0] === "string" ? HASHES[args[0]] : undefined;
      if (algorithm === undefined)
        throw new CryptoFailure("Unrecognized hash algorithm", "NotSupportedError");
      if (this.#hashes.size >= MAX_HASHES)
        throw new CryptoFailure(`A request may run at most ${MAX_HASHES} digest streams`, "OperationError");
      const handle = this.#nextHandle++;
      this.#hashes.set(handle, createHash(algorithm));
      return { handle };
    }
    const handle = Number(args[0]);
    const hash = this.#hashes.get(handle);
    if (hash === undefined) throw new CryptoFailure("The digest stream is closed", "InvalidStateError");
    if (method === "hashUpdate") {
      const chunk = args[1];
      if (!(chunk instanceof Uint8Array)) throw new CryptoFailure("A chunk must be bytes", "TypeError");
      this.#calls.charge(estimateMs("digest", undefined, chunk.byteLength, undefined, 0));
      hash.update(chunk);
      return { boolean: true };
    }
    this.#hashes.delete(handle);
    return { bytes: new Uint8Array(hash.digest()) };
  }
}

/** `{ name, message }` of a failure, as the isolate rebuilds it; never a host stack. */
function failureOf(err: unknown): { name: string; message: string } {
  if (err instanceof CryptoFailure) return { name: err.name, message: err.message };
  if (err instanceof DOMException) return { name: err.name, message: err.message };
  if (err instanceof TypeError) return { name: "TypeError", message: err.message };
  if (err instanceof Error) return { name: "OperationError", message: err.message };
  return { name: "OperationError", message: "The operation failed for an operation-specific reason" };
}
