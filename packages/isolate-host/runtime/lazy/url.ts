/**
 * Entry of the lazily loaded URL bundle (runtime-dist/lazy-url.js): whatwg-url
 * with tr46's Unicode tables, most of the runtime's bytes. The bundle's
 * completion value is this module's namespace, handed to runtime/lazy.ts.
 */
export { URL, URLSearchParams } from "whatwg-url";
