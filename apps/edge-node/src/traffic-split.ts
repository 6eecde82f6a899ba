import type { IncomingMessage } from "node:http";

/**
 * Deterministic traffic split for gradual rollouts: a client falls in bucket
 * 0..99 by a hash (FNV-1a) of the script name and its key, the same on every
 * node, and runs the canary when its bucket is below the rollout's percent.
 * Raising the percent only adds clients: one on the canary at 10 % stays on
 * it at 25 %.
 */
export function canaryBucket(script: string, clientKey: string): number {
  let hash = 0x811c9dc5;
  const text = `${script}\n${clientKey}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 100;
}

/**
 * Who the client is, for the split: the first `x-forwarded-for` entry (the
 * router, or any proxy in front, names the original client there), else the
 * peer address.
 */
export function clientKey(req: IncomingMessage): string {
  const forwarded = req.headers["x-forwarded-for"];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return first || req.socket.remoteAddress || "";
}
