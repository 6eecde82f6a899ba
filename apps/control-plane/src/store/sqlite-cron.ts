import type { Database } from "better-sqlite3";
import type { CronClaim, CronClaimStore } from "./cron-claims.js";

/**
 * Cron tick claims on the SQLite store (`cron_claims`, schema 7): one
 * `INSERT OR IGNORE` per claim in an immediate transaction, so two processes
 * on the same file cannot both claim a tick; expired claims go in the same step.
 */
export function sqliteCron(db: Database, run: <T>(fn: () => T) => Promise<T>): CronClaimStore {
  const prune = db.prepare("DELETE FROM cron_claims WHERE expires_at <= ?");
  const insert = db.prepare(
    "INSERT OR IGNORE INTO cron_claims (name, cron, tick, owner, expires_at) VALUES (?, ?, ?, ?, ?)",
  );
  const claim = db.transaction((c: CronClaim, now: number): boolean => {
    prune.run(now);
    return insert.run(c.name, c.cron, c.tick, c.owner, now + c.ttlMs).changes === 1;
  });
  return {
    claimCronTick: (c, now = Date.now()) => run(() => claim.immediate(c, now)),
  };
}
