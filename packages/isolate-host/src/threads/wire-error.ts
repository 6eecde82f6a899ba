import { isRunError, RunError } from "../errors.js";
import type { WireError } from "./protocol.js";

export function toWire(err: unknown): WireError {
  if (isRunError(err))
    return {
      run: true,
      code: err.code,
      message: err.message,
      cpuMs: err.cpuMs,
      logs: err.logs,
      scriptStack: err.scriptStack,
      location: err.location,
    };
  const error = err instanceof Error ? err : new Error(String(err));
  return { run: false, name: error.name, message: error.message };
}

export function fromWire(wire: WireError): Error {
  if (wire.run) {
    const { cpuMs, logs, scriptStack, location } = wire;
    return new RunError(wire.code, wire.message, { cpuMs, logs, scriptStack, location });
  }
  const error = wire.name === "TypeError" ? new TypeError(wire.message) : new Error(wire.message);
  if (wire.name !== error.name) error.name = wire.name;
  return error;
}
