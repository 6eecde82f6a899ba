import { isRunError, RunError } from "../errors.js";
import type { WireError } from "./protocol.js";

export function toWire(err: unknown): WireError {
  if (isRunError(err))
    return { run: true, code: err.code, message: err.message, cpuMs: err.cpuMs, logs: err.logs };
  const error = err instanceof Error ? err : new Error(String(err));
  return { run: false, name: error.name, message: error.message };
}

export function fromWire(wire: WireError): Error {
  if (wire.run) return new RunError(wire.code, wire.message, { cpuMs: wire.cpuMs, logs: wire.logs });
  const error = wire.name === "TypeError" ? new TypeError(wire.message) : new Error(wire.message);
  if (wire.name !== error.name) error.name = wire.name;
  return error;
}
