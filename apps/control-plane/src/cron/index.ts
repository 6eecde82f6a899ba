import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { NodeTelemetryHooks } from "../push/telemetry-hooks.js";
import type { Store } from "../store/types.js";
import { CronDispatcher } from "./cron-dispatcher.js";
import { CronScheduler } from "./cron-scheduler.js";

export { CronDispatcher, type CronOutcome, type CronRunResult } from "./cron-dispatcher.js";
export { checkCron, checkCrons, MAX_CRONS, nextTick, ticksBetween } from "./cron-expression.js";
export { CronScheduler, type CronSchedulerOptions, type MissedTick } from "./cron-scheduler.js";

/** A tick first seen later than this is reported missed rather than run late. */
export const CRON_MISSED_AFTER_MS = 60_000;
/** How far back a starting replica looks for ticks nobody claimed, to report them missed. */
export const CRON_LOOKBACK_MS = 5 * 60_000;

export interface CronTriggers {
  /** Plug into the push hub (combineHooks): node streams and their ScheduledReports. */
  hooks: NodeTelemetryHooks;
  dispatcher: CronDispatcher;
  scheduler: CronScheduler;
  /** Ticks this replica claimed, by script and outcome, since it started. */
  ticks(): Array<{ script: string; outcome: string; count: number }>;
  close(): Promise<void>;
}

/** Cron Triggers on this replica: the scheduler's clock and the dispatcher to nodes, started. */
export function startCronTriggers(config: Config, store: Store, logger: Logger): CronTriggers {
  const dispatcher = new CronDispatcher(logger);
  const counts = new Map<string, { script: string; outcome: string; count: number }>();
  const scheduler = new CronScheduler({
    store,
    dispatcher,
    logger,
    replicaId: config.controlPlaneId,
    // With a seconds field (tests) ticks come every second: look more often.
    pollMs: config.cronSeconds ? 100 : 1_000,
    refreshMs: config.cronSeconds ? 500 : 5_000,
    missedAfterMs: CRON_MISSED_AFTER_MS,
    lookbackMs: CRON_LOOKBACK_MS,
    onOutcome: ({ script, outcome }) => {
      const key = `${script}\n${outcome}`;
      const entry = counts.get(key) ?? { script, outcome, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    },
  });
  scheduler.start();
  return {
    hooks: dispatcher.hooks,
    dispatcher,
    scheduler,
    ticks: () => [...counts.values()].map((entry) => ({ ...entry })),
    async close() {
      await scheduler.close();
      dispatcher.close();
    },
  };
}
