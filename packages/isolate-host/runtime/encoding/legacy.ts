/**
 * Decoders for every encoding but UTF-8, from lazily loaded parts (see
 * runtime/lazy.ts): "encoding" (UTF-16 and the single-byte encodings, a few
 * KB) and "encoding-cjk" (adds the legacy multi-byte encodings' tables).
 */
import { type LazyName, loadLazy } from "../lazy.js";
import { CJK_ENCODINGS } from "./labels.js";

export interface LegacyDecoder {
  decode(bytes: Uint8Array, options: { stream: boolean }): string;
}

type LegacyDecoderClass = new (
  encoding: string,
  options: { fatal: boolean; ignoreBOM: boolean },
) => LegacyDecoder;

const loaded = new Map<LazyName, LegacyDecoderClass>();

/** A decoder for `encoding` (a name from runtime/encoding/labels.ts, not UTF-8 nor "replacement"). */
export function legacyDecoder(encoding: string, fatal: boolean, ignoreBOM: boolean): LegacyDecoder {
  const part: LazyName = CJK_ENCODINGS.has(encoding) ? "encoding-cjk" : "encoding";
  let Decoder = loaded.get(part);
  if (Decoder === undefined) {
    Decoder = loadLazy<{ TextDecoder: LegacyDecoderClass }>(part).TextDecoder;
    loaded.set(part, Decoder);
  }
  return new Decoder(encoding, { fatal, ignoreBOM });
}
