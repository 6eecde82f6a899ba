import type { Redis } from "ioredis";
import type { CronClaim, CronClaimStore } from "./cron-claims.js";
import { guard } from "./redis-errors.js";

/**
 * Cron tick claims on the Redis store: `SET <p>cron:<name>:<tick>:<cron> owner
 * NX PX ttl`, which only the first replica's command succeeds at.
 */
export function redisCron(redis: Redis, prefix: string): CronClaimStore {
  return {
    claimCronTick: (claim: CronClaim) =>
      guard(async () => {
        const key = `${prefix}cron:${claim.name}:${claim.tick}:${claim.cron}`;
        const reply = await redis.set(key, claim.owner, "PX", Math.max(1, Math.ceil(claim.ttlMs)), "NX");
        return reply === "OK";
      }),
  };
}
