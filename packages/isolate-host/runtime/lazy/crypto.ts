/**
 * Entry of the lazily loaded crypto bundle (runtime-dist/lazy-crypto.js):
 * SubtleCrypto, CryptoKey and DigestStream, loaded the first time a script
 * touches `crypto.subtle`, `crypto.DigestStream` or the `CryptoKey` global.
 * The core hands it its host channel with install() (runtime/crypto/index.ts).
 */
export { installDeps as install } from "../crypto/deps.js";
export { digestStreamClass } from "../crypto/digest-stream.js";
export { CryptoKey } from "../crypto/key.js";
export { subtle } from "../crypto/subtle.js";
