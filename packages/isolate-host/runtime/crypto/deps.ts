/**
 * What the lazily loaded crypto part (runtime/lazy/crypto.ts) takes from the
 * core runtime when it is installed: the core's host channel and its
 * DOMException and WritableStream classes, so that the part shares them
 * instead of bundling copies of its own.
 */
import type { DOMException } from "../dom-exception.js";

export interface CryptoDeps {
  hostStart(op: string, a?: unknown): { id: number; promise: Promise<unknown> };
  DOMException: typeof DOMException;
  encodeUtf8(text: string): Uint8Array;
  writableStream(): new (sink: Record<string, unknown>) => object;
}

let current: CryptoDeps | null = null;

export function installDeps(value: CryptoDeps): void {
  current = value;
}

export function deps(): CryptoDeps {
  if (current === null) throw new Error("The crypto runtime part is not installed");
  return current;
}

/** A DOMException of the core's class, as the spec names them (DataError, OperationError…). */
export function domException(message: string, name: string): Error {
  return new (deps().DOMException)(message, name);
}
