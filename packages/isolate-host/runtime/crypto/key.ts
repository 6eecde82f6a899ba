/**
 * CryptoKey: what a script holds of a key. The key itself stays on the host
 * (src/host/crypto-subtle.ts, a per-request table); the object only keeps, in
 * private fields, the number naming it there and the spec's read-only
 * attributes. Scripts cannot construct one ("Illegal constructor") nor read
 * the handle; a forged number would only name the request's own keys anyway.
 */

export interface KeyDescription {
  handle: number;
  type: string;
  extractable: boolean;
  algorithm: Record<string, unknown>;
  usages: string[];
}

const ILLEGAL = Symbol("illegal");
let handleOfKey: (key: unknown) => number | undefined;

export class CryptoKey {
  readonly #handle: number;
  readonly #type: string;
  readonly #extractable: boolean;
  readonly #algorithm: Record<string, unknown>;
  readonly #usages: string[];

  static {
    handleOfKey = (key) =>
      typeof key === "object" && key !== null && #handle in key ? key.#handle : undefined;
  }

  constructor(token: unknown = undefined, description?: KeyDescription) {
    if (token !== ILLEGAL || description === undefined) throw new TypeError("Illegal constructor");
    this.#handle = description.handle;
    this.#type = description.type;
    this.#extractable = description.extractable;
    this.#algorithm = keyAlgorithm(description.algorithm);
    this.#usages = Array.from(description.usages, String);
  }

  get type(): string {
    return this.#type;
  }
  get extractable(): boolean {
    return this.#extractable;
  }
  /** The spec's [[algorithm]] dictionary, one cached object (KeyAlgorithm and its sub-dictionaries). */
  get algorithm(): Record<string, unknown> {
    return this.#algorithm;
  }
  get usages(): string[] {
    return this.#usages;
  }
  get [Symbol.toStringTag](): string {
    return "CryptoKey";
  }
}

/** Rebuilds the host's algorithm description as a fresh isolate object, with only the members it has. */
function keyAlgorithm(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: String(source.name) };
  const hash = source.hash as { name?: unknown } | undefined;
  if (hash !== undefined) out.hash = { name: String(hash.name) };
  for (const member of ["length", "namedCurve", "modulusLength"]) {
    if (source[member] !== undefined) out[member] = source[member];
  }
  if (source.publicExponent instanceof Uint8Array) out.publicExponent = new Uint8Array(source.publicExponent);
  return out;
}

export function makeKey(description: KeyDescription): CryptoKey {
  return new CryptoKey(ILLEGAL, description);
}

/** The host handle of a real CryptoKey (a private-field brand check, not instanceof); undefined otherwise. */
export function keyHandle(value: unknown): number | undefined {
  return handleOfKey(value);
}
