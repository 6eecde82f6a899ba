/**
 * Bounds and host CPU estimates for SubtleCrypto work done on a script's
 * behalf (./crypto-subtle.ts). Costs are estimated from the operation and its
 * sizes rather than timed, so a busy host does not make a script pay for
 * others; the figures are those of a modest core, rounded up.
 */

/** Largest input (all byte arguments together) of one SubtleCrypto operation. */
export const MAX_OPERATION_BYTES = 16 * 1024 * 1024;
/** RSA moduli above this are refused: keygen grows with the cube of the size. */
export const MAX_RSA_MODULUS_BITS = 4096;
/** RSA keys imported with a larger modulus are refused (each private operation would take seconds). */
export const MAX_RSA_IMPORT_BITS = 8192;
/** Cloudflare's bound: PBKDF2 with more iterations is NotSupportedError. */
export const MAX_PBKDF2_ITERATIONS = 100_000;
/** PBKDF2 work bound: iterations times output blocks (about 1 s of one core). */
export const MAX_PBKDF2_WORK = 1_000_000;
/** Largest `length` of deriveBits (bits). */
export const MAX_DERIVE_BITS = 64 * 1024 * 8;

const BASE_MS = 0.02;
const MS_PER_BYTE = 2 / (1024 * 1024);
const PBKDF2_MS_PER_BLOCK_ITERATION = 0.0015;

export interface KeyFacts {
  name: string;
  modulusLength?: number;
  namedCurve?: string;
}

const CURVE_MS: Record<string, number> = { "P-256": 0.2, "P-384": 1, "P-521": 2.5 };

function rsaPrivateMs(bits: number): number {
  return 0.05 * (bits / 1024) ** 3;
}

function asymmetricMs(key: KeyFacts | undefined, privateOp: boolean): number {
  if (key === undefined) return 0;
  if (key.modulusLength !== undefined)
    return privateOp ? rsaPrivateMs(key.modulusLength) : key.modulusLength / 20_000;
  if (key.namedCurve !== undefined) return CURVE_MS[key.namedCurve] ?? 1;
  if (key.name === "Ed25519" || key.name === "X25519") return 0.15;
  return 0;
}

function numberOf(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function upper(value: unknown): string {
  if (typeof value === "string") return value.toUpperCase();
  if (typeof value === "object" && value !== null) return upper((value as { name?: unknown }).name);
  return "";
}

const HASH_BITS: Record<string, number> = { "SHA-1": 160, "SHA-256": 256, "SHA-384": 384, "SHA-512": 512 };

/** PBKDF2's work: one HMAC pair per iteration per output block of the hash's size. */
export function pbkdf2Work(algorithm: unknown, lengthBits: number): number {
  const params = (algorithm ?? {}) as { iterations?: unknown; hash?: unknown };
  const blocks = Math.max(1, Math.ceil(lengthBits / (HASH_BITS[upper(params.hash)] ?? 160)));
  return numberOf(params.iterations) * blocks;
}

function pbkdf2Ms(algorithm: unknown, lengthBits: number): number {
  return pbkdf2Work(algorithm, lengthBits) * PBKDF2_MS_PER_BLOCK_ITERATION;
}

/** Estimated host milliseconds of one operation, charged to the script before it starts. */
export function estimateMs(
  method: string,
  algorithm: unknown,
  bytes: number,
  key: KeyFacts | undefined,
  lengthBits: number,
): number {
  const name = upper(algorithm);
  let ms = BASE_MS + bytes * MS_PER_BYTE;
  switch (method) {
    case "generateKey": {
      const modulus = numberOf((algorithm as { modulusLength?: unknown } | null)?.modulusLength);
      if (modulus > 0) ms += 5 * (modulus / 1024) ** 3;
      else if (name === "ECDSA" || name === "ECDH") ms += 0.5;
      else if (name === "ED25519" || name === "X25519") ms += 0.1;
      break;
    }
    case "sign":
    case "decrypt":
    case "unwrapKey":
      ms += asymmetricMs(key, true);
      break;
    case "verify":
    case "encrypt":
    case "wrapKey":
      ms += asymmetricMs(key, key?.namedCurve !== undefined || key?.name === "Ed25519");
      break;
    case "deriveBits":
    case "deriveKey":
      ms += name === "PBKDF2" ? pbkdf2Ms(algorithm, lengthBits || 256) : asymmetricMs(key, true);
      break;
    case "importKey":
      ms += 0.05;
      break;
    default:
      break;
  }
  return ms;
}
