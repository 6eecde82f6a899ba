/**
 * The shape of a synchronous host operation: what the in-isolate runtime can
 * ask the host for with `hostCall(op, a, b, c)`. Every argument was copied out
 * of the script's isolate and is untrusted; an operation checks each one and
 * returns only plain copyable data. Operations are listed in ./table.ts.
 */
export interface HostOpContext {
  /** Charges host time spent on the script's behalf to its CPU budget (estimated, not timed). */
  charge(ms: number): void;
  /** The script's memory limit in MiB (heap and, separately, WebAssembly memories); the bridge always sets it. */
  readonly memoryMb?: number;
  /** Ends the request with EDGE_MEMORY_LIMIT once the current call returns; the bridge always sets it. */
  overMemoryLimit?(): void;
}

export type HostOp = (ctx: HostOpContext, a: unknown, b: unknown, c: unknown) => unknown;

/**
 * An error safe to hand to the isolate: isolated-vm copies `stack` along, and
 * a host stack would show the host's file paths, so it is only name and message.
 */
export function hostError(message: string, name = "Error"): Error {
  const error = new Error(message);
  error.name = name;
  error.stack = `${name}: ${message}`;
  return error;
}
