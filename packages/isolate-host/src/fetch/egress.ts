import { isIP } from "node:net";
import type { FetchPolicy } from "./fetch-options.js";
import { isInternalAddress } from "./special-addresses.js";

/**
 * Where a script's subrequest may connect. A target is refused when the
 * operator forbids it, or when it is internal (see special-addresses.ts) with
 * `denyInternal` on and neither its host name nor its address is on the
 * operator's allow-list. Host names are checked as written, and every address
 * they resolve to is checked again before the connection is made to it.
 */
export function hostRefused(policy: FetchPolicy, hostname: string, port: number): boolean {
  if (policy.forbidden.hostForbidden(hostname, port)) return true;
  const name = bare(hostname);
  return isIP(name) !== 0 && addressRefused(policy, name, port, false);
}

/** Whether a resolved address is refused; `hostAllowed`: its host name is on the allow-list. */
export function addressRefused(
  policy: FetchPolicy,
  address: string,
  port: number,
  hostAllowed: boolean,
): boolean {
  if (policy.forbidden.addressForbidden(address, port)) return true;
  if (!policy.denyInternal || hostAllowed) return false;
  if (policy.allowed.addressForbidden(address, port)) return false;
  return isInternalAddress(address);
}

/** Whether the operator's allow-list names this host (so whatever it resolves to is allowed). */
export function hostAllowed(policy: FetchPolicy, hostname: string, port: number): boolean {
  return policy.denyInternal && policy.allowed.hostListed(hostname, port);
}

function bare(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
}
