import { ForbiddenTargets } from "./forbidden-targets.js";

/** Limits on a script's outbound fetch() calls (runner option `fetch`). */
export interface FetchOptions {
  /** Subrequests one request may make, redirects included. Default 50. */
  maxSubrequests?: number;
  /** Time one subrequest may take, redirects included. Default 30 000 ms (the run's wall limit applies too). */
  timeoutMs?: number;
  /** Largest subrequest response body accepted, after decompression. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Targets scripts may not reach (see ForbiddenTargets): typically the node's own control addresses. Default none. */
  forbiddenTargets?: readonly string[];
  /**
   * Refuse internal addresses (loopback, unspecified, link-local, private, CGNAT, multicast... in every
   * IPv4 and IPv6 form, after DNS, on every redirect hop) unless listed in `allowTargets`. Default false
   * here for embedders; the edge node turns it on by default.
   */
  denyInternal?: boolean;
  /** Internal targets the operator lets scripts reach anyway (same syntax as forbiddenTargets). Default none. */
  allowTargets?: readonly string[];
}

/** FetchOptions with every field set, parsed once per runner. */
export interface FetchPolicy {
  maxSubrequests: number;
  timeoutMs: number;
  maxResponseBytes: number;
  forbidden: ForbiddenTargets;
  denyInternal: boolean;
  allowed: ForbiddenTargets;
}

export const DEFAULT_FETCH_OPTIONS = Object.freeze({
  maxSubrequests: 50,
  timeoutMs: 30_000,
  maxResponseBytes: 32 * 1024 * 1024,
});

function count(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`fetch.${name} must be a non-negative number`);
  return Math.floor(value);
}

export function fetchPolicy(options: FetchOptions = {}): FetchPolicy {
  return {
    maxSubrequests: count(options.maxSubrequests, DEFAULT_FETCH_OPTIONS.maxSubrequests, "maxSubrequests"),
    timeoutMs: count(options.timeoutMs, DEFAULT_FETCH_OPTIONS.timeoutMs, "timeoutMs"),
    maxResponseBytes: count(
      options.maxResponseBytes,
      DEFAULT_FETCH_OPTIONS.maxResponseBytes,
      "maxResponseBytes",
    ),
    forbidden: new ForbiddenTargets(options.forbiddenTargets ?? []),
    denyInternal: options.denyInternal ?? false,
    allowed: new ForbiddenTargets(options.allowTargets ?? []),
  };
}
