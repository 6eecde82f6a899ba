import { randomFillSync } from "node:crypto";
import type { HostOp } from "./op.js";

/**
 * Synchronous host side of `runtime/crypto/random.ts`: random bytes
 * (node:crypto's CSPRNG). SubtleCrypto's operations are asynchronous and
 * live in ./crypto-subtle.ts.
 */

const MAX_RANDOM_BYTES = 65_536;

const random: HostOp = (_ctx, a) => {
  const length = Number(a);
  if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES)
    throw new RangeError("Bad length");
  return randomFillSync(new Uint8Array(length));
};

export const cryptoOps = { random } satisfies Record<string, HostOp>;
