import type { KvEntry as WireEntry, KvMutation as WireMutation } from "@edge/protocol";
import { KV_LIMITS } from "@edge/protocol";
import type { KvChange, KvMutation } from "../store/kv-types.js";

/** Between the store's KV types and edge.v1's. */

export function toWireEntry(change: KvChange): WireEntry {
  return {
    key: change.key,
    version: change.version,
    deleted: change.deleted,
    value: Buffer.from(change.value.buffer, change.value.byteOffset, change.value.byteLength),
    ...(change.metadata !== null ? { metadata: change.metadata } : {}),
    expiration: change.expiration ?? 0,
  };
}

/**
 * A node's write, checked again here (the node's runtime checked it first):
 * keys of 1..512 bytes, values up to 25 MiB, metadata up to 1 KiB of JSON.
 * Returns an error message, or the mutations.
 */
export function fromWireMutations(mutations: WireMutation[]): KvMutation[] | string {
  const out: KvMutation[] = [];
  for (const m of mutations) {
    const keyBytes = Buffer.byteLength(m.key, "utf8");
    if (keyBytes === 0 || keyBytes > KV_LIMITS.maxKeyBytes) return `Invalid key of ${keyBytes} bytes`;
    if (m.delete) {
      out.push({ key: m.key, delete: true });
      continue;
    }
    if (m.value.byteLength > KV_LIMITS.maxValueBytes) return "Value too large";
    const metadata = m.metadata ?? null;
    if (metadata !== null) {
      if (Buffer.byteLength(metadata, "utf8") > KV_LIMITS.maxMetadataBytes) return "Metadata too large";
      try {
        JSON.parse(metadata);
      } catch {
        return "Metadata is not JSON";
      }
    }
    out.push({
      key: m.key,
      value: m.value,
      metadata,
      expiration: m.expiration > 0 ? Number(m.expiration) : null,
    });
  }
  return out;
}
