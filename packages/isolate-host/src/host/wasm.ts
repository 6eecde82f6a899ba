import type { HostOp } from "./op.js";

const MIB_PAGES = 16; // 64 KiB WebAssembly pages per MiB

/**
 * The host side of runtime/wasm/memory-cap.ts: the page budget WebAssembly
 * memories get (the script's memory limit), and the signal that the script
 * asked for more, which ends the request with EDGE_MEMORY_LIMIT.
 */
export const wasmOps: Record<string, HostOp> = {
  wasmPages: (ctx) => (ctx.memoryMb ?? 0) * MIB_PAGES,
  wasmOverLimit: (ctx) => {
    ctx.overMemoryLimit?.();
    return true;
  },
};
