/**
 * The spec's "normalize an algorithm" (W3C WebCrypto §18.4), done in the
 * isolate so that its failures reject the returned promise at once, as the
 * spec says (step "If an error occurred, return a Promise rejected with
 * normalizedAlgorithm"): NotSupportedError for a name not registered for the
 * operation, TypeError for a missing or ill-typed dictionary member. The
 * result is plain data for the host: names in their registered case, byte
 * members copied, hashes normalised, CryptoKeys replaced by their handles.
 */
import { copyBytes, domString, isBufferSource } from "./convert.js";
import { domException } from "./deps.js";
import { keyHandle } from "./key.js";

export type Operation =
  | "encrypt"
  | "decrypt"
  | "sign"
  | "verify"
  | "digest"
  | "generateKey"
  | "importKey"
  | "deriveBits"
  | "get key length"
  | "wrapKey"
  | "unwrapKey";

type MemberType =
  | "bytes"
  | "octet"
  | "unsigned short"
  | "unsigned long"
  | "hash"
  | "BigInteger"
  | "CryptoKey"
  | "DOMString";
/** A dictionary's members (beyond `name`), in WebIDL's reading order, with [type, required]. */
type Dictionary = ReadonlyArray<readonly [string, MemberType, boolean]>;

const ALGORITHM: Dictionary = [];
const AES_KEY_GEN: Dictionary = [["length", "unsigned short", true]];
const AES_CBC: Dictionary = [["iv", "bytes", true]];
const AES_CTR: Dictionary = [
  ["counter", "bytes", true],
  ["length", "octet", true],
];
const AES_GCM: Dictionary = [
  ["additionalData", "bytes", false],
  ["iv", "bytes", true],
  ["tagLength", "octet", false],
];
const HMAC_PARAMS: Dictionary = [
  ["hash", "hash", true],
  ["length", "unsigned long", false],
];
const RSA_KEY_GEN: Dictionary = [
  ["modulusLength", "unsigned long", true],
  ["publicExponent", "BigInteger", true],
  ["hash", "hash", true],
];
const HASHED: Dictionary = [["hash", "hash", true]];
const RSA_PSS: Dictionary = [["saltLength", "unsigned long", true]];
const RSA_OAEP: Dictionary = [["label", "bytes", false]];
const EC_PARAMS: Dictionary = [["namedCurve", "DOMString", true]];
const ECDH_DERIVE: Dictionary = [["public", "CryptoKey", true]];
const HKDF: Dictionary = [
  ["hash", "hash", true],
  ["info", "bytes", true],
  ["salt", "bytes", true],
];
const PBKDF2: Dictionary = [
  ["hash", "hash", true],
  ["iterations", "unsigned long", true],
  ["salt", "bytes", true],
];

const AES = ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"];
const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const CIPHERS: Record<string, Dictionary> = {
  "RSA-OAEP": RSA_OAEP,
  "AES-CTR": AES_CTR,
  "AES-CBC": AES_CBC,
  "AES-GCM": AES_GCM,
};

/** The registered algorithms of each operation and the dictionary each one's parameters convert to. */
const REGISTRY: Record<Operation, Record<string, Dictionary>> = {
  encrypt: CIPHERS,
  decrypt: CIPHERS,
  sign: {
    "RSASSA-PKCS1-v1_5": ALGORITHM,
    "RSA-PSS": RSA_PSS,
    ECDSA: HASHED,
    HMAC: ALGORITHM,
    Ed25519: ALGORITHM,
  },
  verify: {},
  digest: { "SHA-1": ALGORITHM, "SHA-256": ALGORITHM, "SHA-384": ALGORITHM, "SHA-512": ALGORITHM },
  generateKey: {
    ...Object.fromEntries(RSA.map((name) => [name, RSA_KEY_GEN])),
    ...Object.fromEntries(AES.map((name) => [name, AES_KEY_GEN])),
    ECDSA: EC_PARAMS,
    ECDH: EC_PARAMS,
    HMAC: HMAC_PARAMS,
    Ed25519: ALGORITHM,
    X25519: ALGORITHM,
  },
  importKey: {
    ...Object.fromEntries(RSA.map((name) => [name, HASHED])),
    ...Object.fromEntries(AES.map((name) => [name, ALGORITHM])),
    ECDSA: EC_PARAMS,
    ECDH: EC_PARAMS,
    HMAC: HMAC_PARAMS,
    HKDF: ALGORITHM,
    PBKDF2: ALGORITHM,
    Ed25519: ALGORITHM,
    X25519: ALGORITHM,
  },
  deriveBits: { ECDH: ECDH_DERIVE, X25519: ECDH_DERIVE, HKDF, PBKDF2 },
  "get key length": {
    ...Object.fromEntries(AES.map((name) => [name, AES_KEY_GEN])),
    HMAC: HMAC_PARAMS,
    HKDF: ALGORITHM,
    PBKDF2: ALGORITHM,
  },
  wrapKey: { "AES-KW": ALGORITHM },
  unwrapKey: { "AES-KW": ALGORITHM },
};
REGISTRY.verify = REGISTRY.sign;

/** Registered names by their ASCII upper case: names match case-insensitively. */
const BY_UPPER = Object.fromEntries(
  (Object.keys(REGISTRY) as Operation[]).map((op) => [
    op,
    new Map(Object.keys(REGISTRY[op]).map((name) => [asciiUpper(name), name])),
  ]),
) as Record<Operation, Map<string, string>>;

function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (run) => run.toUpperCase());
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

const RANGES: Record<string, number> = { octet: 0xff, "unsigned short": 0xffff, "unsigned long": 0xffffffff };

/** WebIDL integer conversion with [EnforceRange]. */
function enforceRange(value: unknown, type: string, member: string): number {
  if (typeof value === "bigint" || typeof value === "symbol")
    throw new TypeError(`${member}: cannot convert a ${typeof value} to a number`);
  const number = Number(value);
  if (!Number.isFinite(number)) throw new TypeError(`${member} is not a finite number`);
  const integer = Math.trunc(number);
  if (integer < 0 || integer > (RANGES[type] ?? 0))
    throw new TypeError(`${member} is outside the range of ${type}`);
  return integer;
}

function member(value: unknown, type: MemberType, name: string): unknown {
  switch (type) {
    case "bytes":
      if (!isBufferSource(value))
        throw new TypeError(`${name} is not of type '(ArrayBuffer or ArrayBufferView)'`);
      return copyBytes(value, name);
    case "BigInteger":
      if (!(value instanceof Uint8Array)) throw new TypeError(`${name} is not of type 'Uint8Array'`);
      return copyBytes(value, name);
    case "CryptoKey": {
      const handle = keyHandle(value);
      if (handle === undefined) throw new TypeError(`${name} is not of type 'CryptoKey'`);
      return handle;
    }
    case "hash":
      return normalizeAlgorithm("digest", value);
    case "DOMString":
      return domString(value);
    default:
      return enforceRange(value, type, name);
  }
}

/** Normalizes `algorithm` (an AlgorithmIdentifier) for `op`; throws as the spec's steps do. */
export function normalizeAlgorithm(op: Operation, algorithm: unknown): Record<string, unknown> {
  const source: Record<string, unknown> = isObject(algorithm) ? algorithm : { name: domString(algorithm) };
  const rawName = source.name;
  if (rawName === undefined) throw new TypeError("Algorithm: name: Missing required member");
  const name = domString(rawName);
  const registered = BY_UPPER[op].get(asciiUpper(name));
  if (registered === undefined)
    throw domException(`Unrecognized algorithm name '${name}' for ${op}`, "NotSupportedError");
  const out: Record<string, unknown> = { name: registered };
  for (const [key, type, required] of REGISTRY[op][registered] ?? ALGORITHM) {
    const value = source[key];
    if (value === undefined) {
      if (required) throw new TypeError(`${registered}: ${key}: Missing required member`);
      continue;
    }
    out[key] = member(value, type, key);
  }
  return out;
}

/** wrapKey/unwrapKey: the operation's own registry first, then encrypt's/decrypt's. */
export function normalizeWrapAlgorithm(
  op: "wrapKey" | "unwrapKey",
  algorithm: unknown,
): Record<string, unknown> {
  try {
    return normalizeAlgorithm(op, algorithm);
  } catch {
    return normalizeAlgorithm(op === "wrapKey" ? "encrypt" : "decrypt", algorithm);
  }
}

const CURVES = new Set(["P-256", "P-384", "P-521"]);

/**
 * generateKey's checks of the normalized parameters themselves (AES length,
 * EC curve, RSA public exponent), reported with the promise at once as
 * WebCrypto implementations do; usages are checked later, on the host.
 */
export function checkKeyGenParameters(normalized: Record<string, unknown>): void {
  const name = normalized.name as string;
  if (AES.includes(name) && ![128, 192, 256].includes(normalized.length as number))
    throw domException("AES key length must be 128, 192 or 256 bits", "OperationError");
  if ((name === "ECDSA" || name === "ECDH") && !CURVES.has(normalized.namedCurve as string))
    throw domException(`Unsupported named curve '${String(normalized.namedCurve)}'`, "NotSupportedError");
  if (RSA.includes(name)) {
    const exponent = normalized.publicExponent as Uint8Array;
    let value = 0;
    for (const byte of exponent) value = value * 256 + byte;
    if (value < 3 || value % 2 === 0 || value > 2 ** 32)
      throw domException("The RSA public exponent must be an odd number from 3 to 2^32", "OperationError");
  }
}
