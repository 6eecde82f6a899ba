/**
 * Exit codes scripts can rely on. Every failure is a `CliError` with a stable
 * code (`EDGE_CLI_...` for the CLI's own, the API's `EDGE_...` code otherwise)
 * and one of these exit codes.
 */
export const EXIT = {
  OK: 0,
  /** Anything unexpected, and 5xx answers from the API. */
  FAILURE: 1,
  /** Bad command line or missing configuration (no API URL or token). */
  USAGE: 2,
  /** The API answered 404: no such script, version or route. */
  NOT_FOUND: 3,
  /** The API refused the request (400, 409, 413, 415, 429...): e.g. a script that does not parse. */
  REJECTED: 4,
  /** The API answered 401 or 403: wrong or missing token. */
  UNAUTHORIZED: 5,
  /** The API could not be reached, or a stream broke. */
  UNREACHABLE: 6,
  /** A deploy or rollback did not reach every connected PoP within `--timeout`. */
  ROLLOUT_INCOMPLETE: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly status?: number,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export function usage(message: string): CliError {
  return new CliError("EDGE_CLI_USAGE", message, EXIT.USAGE);
}

/** Maps an API error status to the exit code for it. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.UNAUTHORIZED;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status >= 400 && status < 500) return EXIT.REJECTED;
  return EXIT.FAILURE;
}
