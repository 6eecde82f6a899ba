import { compressionOps } from "./compression.js";
import { cryptoOps } from "./crypto.js";
import type { HostOp } from "./op.js";
import { urlOps } from "./url.js";
import { wasmOps } from "./wasm.js";

/**
 * The host bridge's synchronous operations, one spread per spec family: every
 * way the in-isolate runtime can reach the host with `hostCall`. Each family's
 * file (./<family>.ts) checks its own arguments; a reviewer reads them here.
 */
export const HOST_OPS: ReadonlyMap<string, HostOp> = new Map(
  Object.entries({
    ...cryptoOps,
    ...urlOps,
    ...compressionOps,
    ...wasmOps,
  }),
);

/**
 * Operations that are pure functions of their arguments (no request state, no
 * randomness, no I/O): a script's top-level code may use them while its
 * isolate is built ahead of a request, before a bridge exists (src/warm-isolate.ts).
 */
export const PURE_HOST_OPS: ReadonlySet<string> = new Set(Object.keys(urlOps));
