/**
 * Workers KV limits, the same as Cloudflare's, shared by the control plane's
 * API and the isolate's binding so both refuse the same things.
 */
export const KV_LIMITS = {
  /** Largest key, in UTF-8 bytes. */
  maxKeyBytes: 512,
  /** Largest value. */
  maxValueBytes: 25 * 1024 * 1024,
  /** Largest metadata, JSON-serialized. */
  maxMetadataBytes: 1024,
  /** An expiration must be at least this far ahead (seconds). */
  minExpirationTtlSeconds: 60,
  /** Most keys a list() returns (and its default). */
  maxListLimit: 1000,
  /** Most keys one bulk get reads. */
  maxBulkGetKeys: 100,
  /** Most entries one bulk write or delete through the API carries. */
  maxBulkWriteEntries: 10_000,
} as const;
