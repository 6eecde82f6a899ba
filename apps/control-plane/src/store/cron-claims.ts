/**
 * The store's part in Cron Triggers: a tick of a script's cron is claimed
 * once, by one control-plane replica, before anything runs it, so several
 * replicas on one store run each tick exactly once.
 */
export interface CronClaim {
  /** The script. */
  name: string;
  /** The cron expression as deployed. */
  cron: string;
  /** The tick's scheduled time, epoch ms. */
  tick: number;
  /** Who claims it (a replica id), kept for diagnosis. */
  owner: string;
  /** How long the claim is kept; long past the tick, so a late replica still sees it. */
  ttlMs: number;
}

export interface CronClaimStore {
  /** True for the one caller that claims this (script, cron, tick) first; false for everyone after. */
  claimCronTick(claim: CronClaim, now?: number): Promise<boolean>;
}
