/**
 * Entry of the lazily loaded CJK-encodings bundle (runtime-dist/lazy-encoding-cjk.js):
 * @exodus/bytes's WHATWG decoders with the legacy multi-byte encodings' index
 * tables (Big5, EUC-JP, EUC-KR, GBK/gb18030, ISO-2022-JP, Shift_JIS), about
 * 150 KB, loaded only by a script that decodes one of them.
 */
export { TextDecoder } from "@exodus/bytes/encoding.js";
