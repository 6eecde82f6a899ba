/**
 * structuredClone from @ungap/structured-clone (serialize + deserialize), with
 * its TypeError for uncloneable values reported as the standard's
 * DataCloneError. `transfer` is accepted and ignored: values are copied.
 */
import { DOMException } from "./dom-exception.js";

interface Ungap {
  serialize(value: unknown, options?: { json?: boolean; lossy?: boolean }): unknown;
  deserialize(records: unknown): unknown;
}

let ungap: Ungap | null = null;

// Values the algorithm refuses (platform objects and the like) that ungap would copy as plain objects.
const UNCLONEABLE = new Set([
  "Promise",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "Proxy",
  "Generator",
  "AsyncGenerator",
]);

function refuseUncloneable(value: unknown, seen: Set<unknown>): void {
  if (typeof value === "function" || typeof value === "symbol") {
    throw new DOMException(`${String(typeof value)} could not be cloned.`, "DataCloneError");
  }
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (UNCLONEABLE.has(tag)) throw new DOMException(`#<${tag}> could not be cloned.`, "DataCloneError");
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      refuseUncloneable(k, seen);
      refuseUncloneable(v, seen);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) refuseUncloneable(v, seen);
    return;
  }
  for (const key of Object.keys(value)) refuseUncloneable((value as Record<string, unknown>)[key], seen);
}

export function structuredClone(...args: unknown[]): unknown {
  if (args.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  }
  const value = args[0];
  // Fast path, also for the streams polyfill's "transfer" of chunk buffers (copied here, not detached).
  if (value instanceof ArrayBuffer) return value.slice(0);
  refuseUncloneable(value, new Set());
  ungap ??= require("@ungap/structured-clone") as Ungap;
  return ungap.deserialize(ungap.serialize(value));
}
