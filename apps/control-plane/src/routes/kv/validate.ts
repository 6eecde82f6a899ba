import { KV_LIMITS } from "@edge/protocol";
import { z } from "zod";
import { EdgeError } from "../../errors.js";

/** What the KV API accepts, checked against Cloudflare's limits (`KV_LIMITS`). */

const NAMESPACE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkNamespaceName(name: unknown): string {
  if (typeof name !== "string" || !NAMESPACE_NAME.test(name)) throw new EdgeError("EDGE_KV_INVALID_NAME");
  return name;
}

export function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "" || key === "." || key === "..") {
    throw new EdgeError("EDGE_KV_INVALID_KEY", "KV keys must not be empty, '.' or '..'");
  }
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > KV_LIMITS.maxKeyBytes) {
    throw new EdgeError(
      "EDGE_KV_INVALID_KEY",
      `KV key is ${bytes} bytes, above the limit of ${KV_LIMITS.maxKeyBytes}`,
    );
  }
  return key;
}

export function checkValueSize(bytes: number): void {
  if (bytes > KV_LIMITS.maxValueBytes) {
    throw new EdgeError(
      "EDGE_KV_VALUE_TOO_LARGE",
      `KV value is ${bytes} bytes, above the limit of ${KV_LIMITS.maxValueBytes}`,
    );
  }
}

/** Metadata as JSON text (null: none), at most 1024 bytes serialized. */
export function checkMetadata(metadata: unknown): string | null {
  if (metadata === undefined || metadata === null) return null;
  const json = JSON.stringify(metadata);
  if (json === undefined) throw new EdgeError("EDGE_KV_INVALID_METADATA", "KV metadata must be JSON");
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > KV_LIMITS.maxMetadataBytes) {
    throw new EdgeError(
      "EDGE_KV_INVALID_METADATA",
      `KV metadata is ${bytes} bytes serialized, above the limit of ${KV_LIMITS.maxMetadataBytes}`,
    );
  }
  return json;
}

/** Metadata from a header: JSON text. */
export function parseMetadataText(text: string | undefined): string | null {
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EdgeError("EDGE_KV_INVALID_METADATA", "The x-edge-kv-metadata header is not JSON");
  }
  return checkMetadata(value);
}

/**
 * `expiration` (epoch seconds) or `expiration_ttl` (seconds from now), at
 * least 60 s ahead; null when neither is set. Giving both is refused.
 */
export function resolveExpiration(
  expiration: number | undefined,
  ttl: number | undefined,
  nowMs: number,
): number | null {
  if (expiration !== undefined && ttl !== undefined) {
    throw new EdgeError("EDGE_KV_INVALID_EXPIRATION", "Give expiration or expiration_ttl, not both");
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  const min = KV_LIMITS.minExpirationTtlSeconds;
  if (ttl !== undefined) {
    if (!Number.isSafeInteger(ttl) || ttl < min) {
      throw new EdgeError(
        "EDGE_KV_INVALID_EXPIRATION",
        `Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least ${min}.`,
      );
    }
    return nowSeconds + ttl;
  }
  if (expiration !== undefined) {
    if (!Number.isSafeInteger(expiration) || expiration < nowSeconds + min) {
      throw new EdgeError(
        "EDGE_KV_INVALID_EXPIRATION",
        `Invalid expiration of ${expiration}. Expiration times must be at least ${min} seconds in the future.`,
      );
    }
    return expiration;
  }
  return null;
}

const seconds = z.coerce.number().int();

export const expirationQuery = z.object({
  expiration: seconds.optional(),
  expiration_ttl: seconds.optional(),
});

export const listQuery = z.object({
  prefix: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(KV_LIMITS.maxListLimit).optional(),
  cursor: z.string().optional(),
});
