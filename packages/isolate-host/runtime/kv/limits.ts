/**
 * Workers KV limits and the errors Cloudflare's runtime throws for them, with
 * its message texts. Mirrors KV_LIMITS in @edge/protocol (the runtime bundle
 * cannot import host packages).
 */
export const MAX_KEY_BYTES = 512;
export const MAX_VALUE_BYTES = 25 * 1024 * 1024;
export const MAX_METADATA_BYTES = 1024;
export const MIN_EXPIRATION_TTL = 60;
export const MAX_LIST_LIMIT = 1000;
export const MAX_BULK_GET_KEYS = 100;

export type KvMethod = "GET" | "GET_BULK" | "PUT" | "DELETE" | "LIST";

/** A failure the KV service reports: `Error: KV PUT failed: 400 …`. */
export function kvFailure(method: KvMethod, status: number, message: string): Error {
  return new Error(`KV ${method} failed: ${status} ${message}`);
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** A key as the binding accepts it: a string (other values are stringified, like WebIDL's DOMString). */
export function checkKey(method: KvMethod, key: unknown): string {
  const name = String(key);
  if (name === "") throw new TypeError("Key name cannot be empty.");
  if (name === "." || name === "..") throw new TypeError(`"${name}" is not allowed as a key name.`);
  const bytes = utf8Length(name);
  if (bytes > MAX_KEY_BYTES) {
    throw kvFailure(
      method,
      414,
      `UTF-8 encoded length of ${bytes} exceeds key length limit of ${MAX_KEY_BYTES}.`,
    );
  }
  return name;
}

/** `expiration` (epoch seconds) or `expirationTtl` (seconds) -> epoch seconds, or null. */
export function resolveExpiration(expiration: unknown, expirationTtl: unknown, nowMs: number): number | null {
  const nowSeconds = Math.floor(nowMs / 1000);
  if (expirationTtl !== undefined && expirationTtl !== null) {
    const ttl = Math.trunc(Number(expirationTtl));
    if (!Number.isFinite(ttl) || ttl < MIN_EXPIRATION_TTL) {
      throw kvFailure(
        "PUT",
        400,
        `Invalid expiration_ttl of ${String(expirationTtl)}. Expiration TTL must be at least ${MIN_EXPIRATION_TTL}.`,
      );
    }
    return nowSeconds + ttl;
  }
  if (expiration !== undefined && expiration !== null) {
    const at = Math.trunc(Number(expiration));
    if (!Number.isFinite(at) || at < nowSeconds + MIN_EXPIRATION_TTL) {
      throw kvFailure(
        "PUT",
        400,
        `Invalid expiration of ${String(expiration)}. Expiration times must be at least ${MIN_EXPIRATION_TTL} seconds in the future.`,
      );
    }
    return at;
  }
  return null;
}
