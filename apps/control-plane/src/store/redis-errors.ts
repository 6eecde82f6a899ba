import { EdgeError, isEdgeError } from "../errors.js";

/** Any failure to talk to Redis becomes EDGE_STORE_UNAVAILABLE (503); our own errors pass through. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw isEdgeError(error) ? error : unavailable(error);
  }
}

export function unavailable(error: unknown): EdgeError {
  const message = error instanceof Error ? error.message : String(error);
  return new EdgeError("EDGE_STORE_UNAVAILABLE", `Redis store: ${message}`, { cause: error });
}
