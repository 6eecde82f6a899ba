import { cryptoOps } from "./crypto.js";
import type { HostOp } from "./op.js";
import { wasmOps } from "./wasm.js";

/**
 * The host bridge's synchronous operations, one spread per spec family: every
 * way the in-isolate runtime can reach the host with `hostCall`. Each family's
 * file (./<family>.ts) checks its own arguments; a reviewer reads them here.
 */
export const HOST_OPS: ReadonlyMap<string, HostOp> = new Map(Object.entries({ ...cryptoOps, ...wasmOps }));
