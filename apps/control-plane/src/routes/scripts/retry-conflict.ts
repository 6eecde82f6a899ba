import { EdgeError, isEdgeError } from "../../errors.js";

/**
 * How many times a read-modify-write of a script is tried. Each refusal means
 * another write to the script got through first, so this many concurrent
 * changes to one script always all land; beyond that, the caller gets 409.
 */
export const WRITE_ATTEMPTS = 10;

/**
 * Runs `attempt` (read the active version, derive a new one, put it with
 * `ifActive`) again while the store refuses it with `EDGE_CONFLICT`. After the
 * last refusal answers `EDGE_CONFLICT` (409) naming the script.
 */
export async function retryOnConflict<T>(
  name: string,
  attempt: () => Promise<T>,
  attempts = WRITE_ATTEMPTS,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isEdgeError(error) || error.code !== "EDGE_CONFLICT") throw error;
      if (tried >= attempts) {
        throw new EdgeError(
          "EDGE_CONFLICT",
          `Script ${name} changed ${attempts} times while this change was applied; retry`,
          { cause: error },
        );
      }
    }
  }
}
