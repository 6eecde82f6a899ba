import { EdgeError } from "../errors.js";

/**
 * A conditional put (`PutOptions.ifActive`) found another active version: a
 * concurrent write got there first. The caller re-reads and tries again.
 */
export function activeChanged(name: string, expected: number | null, actual: number | null): EdgeError {
  const show = (version: number | null) => (version === null ? "none" : `version ${version}`);
  return new EdgeError(
    "EDGE_CONFLICT",
    `${name} changed meanwhile: its active version is ${show(actual)}, not ${show(expected)}`,
  );
}
