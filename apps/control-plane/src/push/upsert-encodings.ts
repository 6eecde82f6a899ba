import { encodeUpserts } from "@edge/protocol";
import type { Resource } from "./desired.js";

/** How many encoded bytes are kept for reuse; past it the oldest entries go. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * The encoded upserts of the packs streams send, shared by every stream that
 * sends the same resources at the same revision: after a deploy a thousand
 * nodes get one pack, encoded once. Kept for the latest revision only.
 */
export class UpsertEncodings {
  #revision = -1;
  readonly #byPack = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(private readonly maxBytes = MAX_BYTES) {}

  get(revision: number, upserts: readonly Resource[]): Uint8Array {
    if (revision !== this.#revision) {
      this.#revision = revision;
      this.#byPack.clear();
      this.#bytes = 0;
    }
    // A resource's release key names its content (versions are immutable), so names and keys identify a pack.
    const id = upserts.map((r) => `${r.name}=${r.key}`).join(",");
    let encoded = this.#byPack.get(id);
    if (encoded === undefined) {
      encoded = encodeUpserts(upserts.map((r) => r.script));
      this.#byPack.set(id, encoded);
      this.#bytes += encoded.length;
      for (const [key, old] of this.#byPack) {
        if (this.#bytes <= this.maxBytes || key === id) break;
        this.#byPack.delete(key);
        this.#bytes -= old.length;
      }
    }
    return encoded;
  }
}
