import type { Script } from "./generated/edge/v1/control.js";

/**
 * The version of one script resource as both sides compare it (the part of
 * the wire contract that is not a message): "<version>" for a script without
 * a canary, "<version>+<canary version>@<percent>" while a gradual rollout
 * runs on the node. The control plane diffs a node's `held_releases` against
 * it, and parks a NACKed resource under it.
 */
export function releaseKey(script: Pick<Script, "version" | "canary">): string {
  const canary = script.canary?.script;
  if (canary === undefined) return String(script.version);
  return `${script.version}+${canary.version}@${script.canary?.percent ?? 0}`;
}

/** A release key taken apart; null when `key` is not one. */
export interface ParsedRelease {
  version: number;
  canary: { version: number; percent: number } | null;
}

export function parseReleaseKey(key: string): ParsedRelease | null {
  const match = /^(\d+)(?:\+(\d+)@(\d+))?$/.exec(key);
  if (!match) return null;
  const version = Number(match[1]);
  if (match[2] === undefined) return { version, canary: null };
  return { version, canary: { version: Number(match[2]), percent: Number(match[3]) } };
}
