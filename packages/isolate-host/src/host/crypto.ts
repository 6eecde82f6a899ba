import { createHash, createHmac, randomFillSync } from "node:crypto";
import type { HostOp, HostOpContext } from "./op.js";

/** Host side of `runtime/crypto.ts`: randomness, digests and HMAC (node:crypto). */

const HASHES = new Set(["sha1", "sha256", "sha384", "sha512"]);
const MAX_RANDOM_BYTES = 65_536;
/** Largest input hashed per call: hashing runs on the host's event loop, so it is kept short. */
export const MAX_DIGEST_BYTES = 16 * 1024 * 1024;
/** Host hashing cost estimate: a small fixed part plus about 2 ms per MB (SHA-512 and SHA-256 speeds on a modest core). */
const HASH_BASE_MS = 0.005;
const HASH_MS_PER_BYTE = 2 / (1024 * 1024);

function bytesArg(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be bytes`);
  if (value.byteLength > MAX_DIGEST_BYTES) {
    throw new RangeError(
      `${what} is larger than the ${MAX_DIGEST_BYTES}-byte limit for one crypto operation`,
    );
  }
  return value;
}

function hashArg(value: unknown): string {
  if (typeof value !== "string" || !HASHES.has(value)) throw new TypeError("Unsupported hash");
  return value;
}

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
  const hash = hashArg(a);
  const data = bytesArg(b, "data");
  chargeHashing(ctx, data.byteLength);
  return new Uint8Array(createHash(hash).update(data).digest());
};

const hmac: HostOp = (ctx, a, b, c) => {
  const hash = hashArg(a);
  const data = bytesArg(c, "data");
  chargeHashing(ctx, data.byteLength);
  return new Uint8Array(createHmac(hash, bytesArg(b, "key")).update(data).digest());
};

export const cryptoOps = { random, digest, hmac } satisfies Record<string, HostOp>;
