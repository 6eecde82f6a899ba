/** "Name: message" for a thrown value, never throwing itself (the value may be hostile). */
export function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    if (typeof err === "object" && err !== null && "name" in err && "message" in err) {
      return `${String((err as { name: unknown }).name)}: ${String((err as { message: unknown }).message)}`;
    }
    return `Uncaught ${typeof err === "string" ? err : String(err)}`;
  } catch {
    return "Uncaught exception (the thrown value could not be described)";
  }
}

/** The thrown value's V8 stack ("Name: message" then frames), or "" (never throws; a getter may be hostile). */
export function stackOf(err: unknown): string {
  try {
    const stack = err instanceof Error ? err.stack : undefined;
    return typeof stack === "string" ? stack.slice(0, 16_384) : "";
  } catch {
    return "";
  }
}
