import { RunError } from "./errors.js";
import type { KillReason } from "./isolate-session.js";
import type { LinkableModule } from "./modules/module-set.js";
import type { LogLine, ScriptLimits } from "./types.js";

/** The error a run ends with when the host ended its isolate for `reason`. */
export function killError(
  reason: KillReason,
  limits: ScriptLimits,
  startupCpuMs: number | null,
  options: { cause: unknown; cpuMs: number; logs: LogLine[] },
): Error {
  switch (reason) {
    case "cpu":
      if (startupCpuMs !== null) {
        return new RunError(
          "EDGE_STARTUP_LIMIT",
          `The script's top-level code exceeded its start-up CPU limit of ${startupCpuMs} ms`,
          options,
        );
      }
      return new RunError(
        "EDGE_CPU_LIMIT",
        `The script exceeded its CPU time limit of ${limits.cpuMs} ms`,
        options,
      );
    case "wall":
      return new RunError(
        "EDGE_WALL_LIMIT",
        `The script exceeded its wall-clock limit of ${limits.wallMs} ms`,
        options,
      );
    case "shutdown":
      return new Error("The isolate runner was disposed while the script ran", { cause: options.cause });
    case "never":
      return new RunError(
        "EDGE_NO_RESPONSE",
        "The script will never generate a response: its fetch handler waits on a promise that nothing can settle",
        options,
      );
    case "memory":
      return new RunError(
        "EDGE_MEMORY_LIMIT",
        `The script exceeded its memory limit of ${limits.memoryMb} MB`,
        options,
      );
    case "aborted":
      return new RunError(
        "EDGE_CLIENT_CLOSED",
        "The client closed the connection before the response",
        options,
      );
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : "";
}

/**
 * isolated-vm reports the position as a " [file:line:column]" suffix; the
 * message keeps "line:column" so a deployer can find the fault.
 */
export function compileError(err: unknown, module?: string): RunError {
  const text = describeThrown(err);
  const position = /^(.*) \[.*:(\d+):(\d+)\]$/s.exec(text);
  const where = module === undefined ? "" : `${module}:`;
  const message = position === null ? text : `${position[1]} at ${where}${position[2]}:${position[3]}`;
  return new RunError("EDGE_COMPILE_ERROR", message, { cause: err });
}

/** A module that does not compile: the main one by line:column, any other by module:line:column. */
export function moduleCompileError(err: unknown, module: LinkableModule, main: boolean): RunError {
  return compileError(err, main ? undefined : module.name);
}

/** "Name: message" as the script would see it; isolated-vm copies errors out with name and message. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `Uncaught ${String(err)}`;
}
