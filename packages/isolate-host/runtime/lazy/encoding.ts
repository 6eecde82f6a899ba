/**
 * Entry of the lazily loaded legacy-encodings bundle (runtime-dist/lazy-encoding.js):
 * @exodus/bytes's WHATWG decoders for UTF-16LE/BE and the single-byte
 * encodings, in pure JS. The bundle's completion value is this module's
 * namespace, handed to runtime/lazy.ts.
 */
export { TextDecoder } from "@exodus/bytes/encoding-lite.js";
