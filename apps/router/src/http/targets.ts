import type { Candidate } from "@edge/routing";
import { type HostPort, parseHostPort } from "../node-address.js";
import type { HoldDown } from "./hold-down.js";

export interface Target {
  candidate: Candidate;
  target: HostPort;
  /** What a hold-down is keyed by: this node at this address (a node back on a new address is not held). */
  key: string;
}

export interface OrderedTargets {
  /** Best first: the ranked nodes not held down, then those held down (a last resort, never none). */
  targets: Target[];
  /** Held-down nodes ranked ahead of the first target: passed over, with why. */
  passedOver: Array<{ candidate: Candidate; reason: string }>;
}

/** The ranked candidates whose address can be used, those held down moved to the back. */
export function orderTargets(candidates: readonly Candidate[], holdDown: HoldDown): OrderedTargets {
  const fresh: Target[] = [];
  const held: Array<{ t: Target; reason: string }> = [];
  for (const candidate of candidates) {
    const target = candidate.rank === null ? null : parseHostPort(candidate.httpAddress);
    if (target === null) continue;
    const t = { candidate, target, key: `${candidate.id}@${candidate.httpAddress}` };
    const reason = holdDown.reasonFor(t.key);
    if (reason === null) fresh.push(t);
    else held.push({ t, reason });
  }
  // Fail open: when every node is held down, trying them beats refusing outright.
  const targets = [...fresh, ...held.map((h) => h.t)];
  const firstRank = targets[0]?.candidate.rank ?? 0;
  const passedOver = held
    .filter((h) => (h.t.candidate.rank ?? 0) < firstRank)
    .map((h) => ({ candidate: h.t.candidate, reason: h.reason }));
  return { targets, passedOver };
}
