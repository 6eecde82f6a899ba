/**
 * WebAssembly memories live outside the V8 heap, so the isolate's heap limit
 * does not see them. This keeps every memory a request can create within the
 * script's memory limit (the host's `wasmPages`), as a budget of 64 KiB pages:
 * - a memory made with `new WebAssembly.Memory()` reserves its maximum (the
 *   rest of the budget when it declares none) and gets that as its maximum;
 * - a module's own memories get a maximum of the whole budget written into
 *   the module when it is compiled, and reserve it when instantiated;
 * so V8 itself refuses growth past the budget. Asking for more from
 * JavaScript (`grow`, a new memory or instance past the budget) ends the
 * request with EDGE_MEMORY_LIMIT, like running out of heap.
 */
import { hostCall } from "../host.js";
import { capModuleMemories } from "./module-limits.js";

const PAGE = 65_536;

/** The parts of the WebAssembly namespace this wraps (the runtime's lib has no WebAssembly types). */
type Ctor = new (...args: unknown[]) => object;
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmNamespace {
  Memory: Ctor & { prototype: WasmMemory & { grow(delta: unknown): number } };
  Module: Ctor & { exports: unknown; imports: unknown; customSections: unknown };
  Instance: Ctor;
  compile(bytes: unknown): Promise<object>;
  instantiate(source: unknown, imports?: object): Promise<unknown>;
}
const reflectApply = Reflect.apply;
const reflectConstruct = Reflect.construct;
const weakGet = WeakMap.prototype.get;
const weakSet = WeakMap.prototype.set;

let budgetPages: number | null = null;
let reserved = 0;

function budget(): number {
  if (budgetPages === null) budgetPages = Math.max(0, Math.floor(Number(hostCall("wasmPages"))));
  return budgetPages;
}

/** Tells the host to end the request (EDGE_MEMORY_LIMIT) and fails the current operation. */
function exceeded(): never {
  hostCall("wasmOverLimit");
  throw new RangeError("WebAssembly memory is over the script's memory limit");
}

function reserve(pages: number): void {
  if (reserved + pages > budget()) exceeded();
  reserved += pages;
}

function pagesOf(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const pages = Number(value);
  if (!Number.isFinite(pages) || pages < 0) throw new TypeError("Invalid WebAssembly page count");
  return Math.floor(pages);
}

export function installWasmMemoryCap(): void {
  const wasm = (globalThis as { WebAssembly?: WasmNamespace }).WebAssembly;
  if (wasm === undefined) return;
  const NativeMemory = wasm.Memory;
  const NativeModule = wasm.Module;
  const NativeInstance = wasm.Instance;
  const nativeGrow = NativeMemory.prototype.grow;
  /** Pages each module compiled here reserves when instantiated. */
  const modulePages = new WeakMap<object, number>();
  /** Each memory made here: its maximum in pages. */
  const memoryCaps = new WeakMap<object, number>();

  function compileBytes(bytes: unknown): { bytes: unknown; pages: number } {
    const view = toBytes(bytes);
    if (view === null) return { bytes, pages: 0 };
    const capped = capModuleMemories(view, budget());
    return { bytes: capped.bytes, pages: capped.pages };
  }

  function Memory(this: unknown, descriptor: { initial?: unknown; minimum?: unknown; maximum?: unknown }) {
    if (new.target === undefined) throw new TypeError("WebAssembly.Memory must be invoked with 'new'");
    const initial = pagesOf(descriptor?.initial ?? descriptor?.minimum, 0);
    const remaining = budget() - reserved;
    const declared = pagesOf(descriptor?.maximum, Number.POSITIVE_INFINITY);
    const cap = Math.min(declared, remaining);
    if (initial > cap) exceeded();
    const memory = reflectConstruct(NativeMemory, [{ ...descriptor, maximum: cap }], new.target) as object;
    reserved += cap;
    reflectApply(weakSet, memoryCaps, [memory, cap]);
    return memory;
  }
  Memory.prototype = NativeMemory.prototype;
  Object.defineProperty(NativeMemory.prototype, "constructor", {
    value: Memory,
    configurable: true,
    writable: true,
  });
  Object.defineProperty(NativeMemory.prototype, "grow", {
    configurable: true,
    writable: true,
    value: function grow(this: WasmMemory, delta: unknown) {
      const cap = reflectApply(weakGet, memoryCaps, [this]) as number | undefined;
      if (cap !== undefined) {
        const pages = this.buffer.byteLength / PAGE;
        if (pages + pagesOf(delta, 0) > cap) exceeded();
      }
      return reflectApply(nativeGrow, this, [delta]);
    },
  });

  function Module(this: unknown, bytes: unknown) {
    if (new.target === undefined) throw new TypeError("WebAssembly.Module must be invoked with 'new'");
    const compiled = compileBytes(bytes);
    const module = reflectConstruct(NativeModule, [compiled.bytes], new.target) as object;
    reflectApply(weakSet, modulePages, [module, compiled.pages]);
    return module;
  }
  Module.prototype = NativeModule.prototype;
  for (const name of ["exports", "imports", "customSections"] as const)
    Object.defineProperty(Module, name, { value: NativeModule[name], configurable: true, writable: true });
  Object.defineProperty(NativeModule.prototype, "constructor", {
    value: Module,
    configurable: true,
    writable: true,
  });

  function Instance(this: unknown, module: object, imports?: object) {
    if (new.target === undefined) throw new TypeError("WebAssembly.Instance must be invoked with 'new'");
    reserve((reflectApply(weakGet, modulePages, [module]) as number | undefined) ?? 0);
    return reflectConstruct(NativeInstance, [module, imports], new.target) as object;
  }
  Instance.prototype = NativeInstance.prototype;
  Object.defineProperty(NativeInstance.prototype, "constructor", {
    value: Instance,
    configurable: true,
    writable: true,
  });

  // Compiled and instantiated synchronously inside the promise-returning API: V8's own asynchronous
  // compilation would resume the script from a background task, which the host cannot see as
  // pending work (see runtime/admission/run-state.ts), and its CPU would escape the request's clock.
  async function compile(bytes: unknown): Promise<object> {
    return reflectConstruct(Module, [bytes]) as object;
  }

  async function instantiate(source: unknown, imports?: object): Promise<unknown> {
    const known = reflectApply(weakGet, modulePages, [source]) as number | undefined;
    // A module compiled here, or something that is not bytes (V8 rejects it): instantiated as is.
    if (known !== undefined || toBytes(source) === null) {
      return reflectConstruct(Instance, [source, imports]) as object;
    }
    const module = reflectConstruct(Module, [source]) as object;
    const instance = reflectConstruct(Instance, [module, imports]) as object;
    return { module, instance };
  }

  const replacements: Record<string, unknown> = { Memory, Module, Instance, compile, instantiate };
  for (const [name, value] of Object.entries(replacements)) {
    Object.defineProperty(wasm, name, { value, configurable: true, writable: true, enumerable: false });
  }
}

const isView = ArrayBuffer.isView;
const bufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")?.get;
const viewBuffer = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  "buffer",
)?.get;
const viewOffset = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  "byteOffset",
)?.get;
const viewLength = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  "byteLength",
)?.get;
const dataViewBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, "buffer")?.get;
const dataViewOffset = Object.getOwnPropertyDescriptor(DataView.prototype, "byteOffset")?.get;
const dataViewLength = Object.getOwnPropertyDescriptor(DataView.prototype, "byteLength")?.get;

/** A copy of a BufferSource's bytes (read through captured getters), or null for anything else. */
function toBytes(source: unknown): Uint8Array | null {
  const read = (getters: Array<((this: unknown) => unknown) | undefined>): Uint8Array | null => {
    try {
      const [buffer, offset, length] = getters.map((get) => reflectApply(get!, source, []));
      return new Uint8Array(buffer as ArrayBuffer, offset as number, length as number).slice();
    } catch {
      return null;
    }
  };
  if (isView(source)) {
    return (
      read([viewBuffer, viewOffset, viewLength]) ?? read([dataViewBuffer, dataViewOffset, dataViewLength])
    );
  }
  try {
    reflectApply(bufferByteLength!, source, []);
    return new Uint8Array(source as ArrayBuffer).slice();
  } catch {
    return null;
  }
}
