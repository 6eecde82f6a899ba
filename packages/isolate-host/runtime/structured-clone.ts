/**
 * structuredClone (HTML standard §2.7 "safe passing of structured data"):
 * StructuredSerializeWithTransfer and StructuredDeserializeWithTransfer done in
 * one pass, so each getter runs once and cycles and shared references are
 * kept. Types are recognised by their internal slots (brand checks), not by
 * Symbol.toStringTag, which a script can fake. What the standard cannot clone
 * (functions, symbols, promises, weak collections, platform objects) throws a
 * DataCloneError DOMException. `transfer` takes ArrayBuffers: the clone gets
 * their contents and the originals are detached.
 */
import { DOMException } from "./dom-exception.js";

const reflectApply = Reflect.apply;
const objectToString = Object.prototype.toString;
const dateGetTime = Date.prototype.getTime;
const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, "source")!.get!;
const regExpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, "flags")!.get!;
const mapHas = Map.prototype.has;
const setHas = Set.prototype.has;
const bufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get!;
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get!;
const typedArrayBuffer = Object.getOwnPropertyDescriptor(typedArrayProto, "buffer")!.get!;
const typedArrayOffset = Object.getOwnPropertyDescriptor(typedArrayProto, "byteOffset")!.get!;
const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayProto, "length")!.get!;
const dataViewBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, "buffer")!.get!;
const dataViewOffset = Object.getOwnPropertyDescriptor(DataView.prototype, "byteOffset")!.get!;
const dataViewLength = Object.getOwnPropertyDescriptor(DataView.prototype, "byteLength")!.get!;
const isError = (Error as { isError?: (value: unknown) => boolean }).isError;

const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => unknown> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
const float16 = (globalThis as { Float16Array?: (typeof TYPED_ARRAYS)[string] }).Float16Array;
if (float16 !== undefined) TYPED_ARRAYS.Float16Array = float16;

/** Primitive wrappers' valueOf methods: each is the brand check that unwraps its kind. */
const WRAPPERS: ReadonlyArray<() => unknown> = [
  Boolean.prototype.valueOf,
  Number.prototype.valueOf,
  String.prototype.valueOf,
  BigInt.prototype.valueOf,
];

function uncloneable(what: string): DOMException {
  return new DOMException(`${what} could not be cloned.`, "DataCloneError");
}

function has(brandCheck: (...args: never[]) => unknown, value: object, args: unknown[] = []): boolean {
  try {
    reflectApply(brandCheck, value, args);
    return true;
  } catch {
    return false;
  }
}

function isArrayBuffer(value: object): value is ArrayBuffer {
  return has(bufferByteLength, value);
}

function isDetached(buffer: ArrayBuffer): boolean {
  return (buffer as { detached?: boolean }).detached === true;
}

class Cloner {
  readonly #memory = new Map<object, unknown>();

  clone(value: unknown): unknown {
    if (typeof value === "symbol") throw uncloneable("Symbol()");
    if (typeof value === "function") throw uncloneable(`function ${value.name || "anonymous"}`);
    if (typeof value !== "object" || value === null) return value;
    if (this.#memory.has(value)) return this.#memory.get(value);
    return this.#object(value);
  }

  #remember<T>(original: object, copy: T): T {
    this.#memory.set(original, copy);
    return copy;
  }

  #object(value: object): unknown {
    if (ArrayBuffer.isView(value)) return this.#view(value);
    if (Array.isArray(value)) {
      const copy = this.#remember(value, new Array((value as unknown[]).length));
      return this.#properties(value, copy);
    }
    if (isArrayBuffer(value)) return this.#remember(value, this.#buffer(value));
    if (has(dateGetTime, value)) return this.#remember(value, new Date(reflectApply(dateGetTime, value, [])));
    if (
      has(regExpFlags, value) &&
      has(regExpSource, value) &&
      objectToString.call(value) === "[object RegExp]"
    ) {
      return this.#remember(
        value,
        new RegExp(reflectApply(regExpSource, value, []), reflectApply(regExpFlags, value, [])),
      );
    }
    for (const unwrap of WRAPPERS) {
      if (has(unwrap, value)) return this.#remember(value, Object(reflectApply(unwrap, value, [])));
    }
    if (has(Symbol.prototype.valueOf, value)) throw uncloneable("Symbol object");
    if (has(mapHas, value, [undefined])) {
      const copy = this.#remember(value, new Map());
      for (const [k, v] of Array.from(value as Map<unknown, unknown>)) copy.set(this.clone(k), this.clone(v));
      return copy;
    }
    if (has(setHas, value, [undefined])) {
      const copy = this.#remember(value, new Set());
      for (const v of Array.from(value as Set<unknown>)) copy.add(this.clone(v));
      return copy;
    }
    const tag = objectToString.call(value).slice(8, -1);
    if (isError === undefined ? tag === "Error" : isError(value)) return this.#error(value as Error);
    if (tag === "Blob" || tag === "File") return this.#remember(value, this.#blob(value, tag));
    // A plain object (or one of a script's own classes) clones as an ordinary object whatever its
    // Symbol.toStringTag says; a tagged object of another kind is taken for a platform object.
    const proto = Object.getPrototypeOf(value) as object | null;
    const plain = proto === null || proto === Object.prototype || !(Symbol.toStringTag in proto);
    if (tag !== "Object" && tag !== "Arguments" && !plain) throw uncloneable(`#<${tag}>`);
    return this.#properties(value, this.#remember(value, {}));
  }

  /** Own enumerable string-keyed properties, each read once (getters included). */
  #properties(value: object, copy: object): object {
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      Object.defineProperty(copy, key, {
        value: this.clone(v),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return copy;
  }

  #buffer(buffer: ArrayBuffer): ArrayBuffer {
    if (isDetached(buffer)) throw uncloneable("A detached ArrayBuffer");
    const resizable = buffer as ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
    if (resizable.resizable === true) {
      const Resizable = ArrayBuffer as unknown as new (
        length: number,
        options: { maxByteLength: number },
      ) => ArrayBuffer;
      const copy = new Resizable(buffer.byteLength, {
        maxByteLength: resizable.maxByteLength ?? buffer.byteLength,
      });
      new Uint8Array(copy).set(new Uint8Array(buffer));
      return copy;
    }
    return buffer.slice(0);
  }

  #view(view: ArrayBufferView): unknown {
    if (view instanceof DataView || !has(typedArrayTag, view)) {
      const buffer = reflectApply(dataViewBuffer, view, []) as ArrayBuffer;
      if (isDetached(buffer)) throw uncloneable("A view on a detached ArrayBuffer");
      const copy = this.clone(buffer) as ArrayBuffer;
      return this.#remember(
        view,
        new DataView(copy, reflectApply(dataViewOffset, view, []), reflectApply(dataViewLength, view, [])),
      );
    }
    const name = reflectApply(typedArrayTag, view, []) as string;
    const buffer = reflectApply(typedArrayBuffer, view, []) as ArrayBuffer;
    if (isDetached(buffer)) throw uncloneable("A view on a detached ArrayBuffer");
    const Ctor = TYPED_ARRAYS[name];
    if (Ctor === undefined) throw uncloneable(name);
    const copy = this.clone(buffer) as ArrayBuffer;
    return this.#remember(
      view,
      new Ctor(copy, reflectApply(typedArrayOffset, view, []), reflectApply(typedArrayLength, view, [])),
    );
  }

  #error(value: Error): Error {
    const name = String(value.name);
    const Ctor = Object.hasOwn(ERROR_TYPES, name) ? ERROR_TYPES[name]! : Error;
    const copy = this.#remember(value, Object.create(Ctor.prototype) as Error);
    const message = Object.getOwnPropertyDescriptor(value, "message");
    if (message !== undefined && "value" in message) {
      Object.defineProperty(copy, "message", {
        value: String(message.value),
        writable: true,
        configurable: true,
      });
    }
    const stack = Object.getOwnPropertyDescriptor(value, "stack");
    if (stack !== undefined && "value" in stack && typeof stack.value === "string") {
      Object.defineProperty(copy, "stack", { value: stack.value, writable: true, configurable: true });
    }
    const cause = Object.getOwnPropertyDescriptor(value, "cause");
    if (cause !== undefined && "value" in cause) {
      Object.defineProperty(copy, "cause", {
        value: this.clone(cause.value),
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }

  /** Blob and File (when the runtime has them) are immutable: a new one over the same bytes. */
  #blob(value: object, tag: string): unknown {
    const scope = globalThis as {
      Blob?: new (parts: unknown[], options?: object) => unknown;
      File?: new (parts: unknown[], name: string, options?: object) => unknown;
    };
    const blob = value as { type: string; name?: string; lastModified?: number };
    if (tag === "File" && typeof scope.File === "function" && value instanceof scope.File) {
      return new scope.File([value], String(blob.name), { type: blob.type, lastModified: blob.lastModified });
    }
    if (typeof scope.Blob === "function" && value instanceof scope.Blob)
      return new scope.Blob([value], { type: blob.type });
    throw uncloneable(`#<${tag}>`);
  }
}

function transferList(options: unknown): ArrayBuffer[] {
  if (options === undefined || options === null) return [];
  if (typeof options !== "object" && typeof options !== "function") {
    throw new TypeError(
      "Failed to execute 'structuredClone': The provided value is not of type 'StructuredSerializeOptions'.",
    );
  }
  const transfer = (options as { transfer?: unknown }).transfer;
  if (transfer === undefined) return [];
  if (
    typeof transfer !== "object" ||
    transfer === null ||
    typeof (transfer as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError("Failed to execute 'structuredClone': The transfer option is not a sequence.");
  }
  const list: ArrayBuffer[] = [];
  for (const item of transfer as Iterable<unknown>) {
    if (typeof item !== "object" || item === null || !isArrayBuffer(item)) {
      throw uncloneable("Only ArrayBuffers can be transferred here; the value");
    }
    if (list.includes(item)) throw uncloneable("An ArrayBuffer listed twice in transfer");
    if (isDetached(item)) throw uncloneable("A detached ArrayBuffer");
    list.push(item);
  }
  return list;
}

export function structuredClone(...args: unknown[]): unknown {
  if (args.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  }
  const transfer = transferList(args[1]);
  const copy = new Cloner().clone(args[0]);
  // Transferred buffers were copied into the clone; the originals are now detached.
  for (const buffer of transfer) (buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
  return copy;
}
