import { createHash, randomFillSync } from "node:crypto";
import type { HostOp, HostOpContext } from "./op.js";

/**
 * Synchronous host side of `runtime/crypto/`: random bytes and
 * `crypto.subtle.digest` (node:crypto), answered while the isolate waits.
 * The rest of SubtleCrypto is asynchronous and lives in ./crypto-subtle.ts.
 */

const HASHES = new Set(["sha1", "sha256", "sha384", "sha512", "md5"]);
const MAX_RANDOM_BYTES = 65_536;
/** Largest input hashed per call: hashing runs on the host's event loop, so it is kept short. */
export const MAX_DIGEST_BYTES = 16 * 1024 * 1024;
/** Host hashing cost estimate: a small fixed part plus about 2 ms per MB (SHA-512 and SHA-256 speeds on a modest core). */
const HASH_BASE_MS = 0.005;
const HASH_MS_PER_BYTE = 2 / (1024 * 1024);

/**
 * Hashing runs on the host thread, outside the isolate's CPU clock, so its
 * cost is charged to the script: estimated from the input size rather than
 * timed, so that a busy host does not make a script pay for others.
 */
function chargeHashing(ctx: HostOpContext, bytes: number): void {
  ctx.charge(HASH_BASE_MS + bytes * HASH_MS_PER_BYTE);
}

const random: HostOp = (ctx, a) => {
  const length = Number(a);
  if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES)
    throw new RangeError("Bad length");
  // Host work like hashing: charged by size (about 1 ms per MB of randomness).
  ctx.charge(HASH_BASE_MS + length / (1024 * 1024));
  return randomFillSync(new Uint8Array(length));
};

const digest: HostOp = (ctx, a, b) => {
  if (typeof a !== "string" || !HASHES.has(a)) throw new TypeError("Unsupported hash");
  if (!(b instanceof Uint8Array)) throw new TypeError("data must be bytes");
  if (b.byteLength > MAX_DIGEST_BYTES)
    throw new RangeError(`data is larger than the ${MAX_DIGEST_BYTES}-byte limit for one crypto operation`);
  chargeHashing(ctx, b.byteLength);
  return new Uint8Array(createHash(a).update(b).digest());
};

export const cryptoOps = { random, digest } satisfies Record<string, HostOp>;
