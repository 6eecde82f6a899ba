import type { Logger } from "pino";
import type { Store } from "../store/types.js";
import type { CronDispatcher, CronRunResult } from "./cron-dispatcher.js";
import { ticksBetween } from "./cron-expression.js";

/** Ticks looked at per cron and pass; a backlog beyond it is worked through on the next passes. */
const MAX_TICKS_PER_PASS = 20;

export interface CronSchedulerOptions {
  store: Store;
  dispatcher: CronDispatcher;
  logger: Logger;
  /** This replica's id, stored with its claims. */
  replicaId: string;
  /** How often due ticks are looked for (ms). */
  pollMs: number;
  /** How often the scripts' crons are read again from the store (ms). */
  refreshMs: number;
  /** A tick first seen later than this after its time is reported missed, not run. */
  missedAfterMs: number;
  /** How far back a starting replica looks for ticks nobody claimed (to report them missed). */
  lookbackMs: number;
  /** Every tick's end: run (with the node's outcome), lost, unavailable or missed. */
  onOutcome?: (result: CronRunResult | MissedTick) => void;
  now?: () => number;
}

export interface MissedTick {
  script: string;
  cron: string;
  scheduledTime: number;
  outcome: "missed";
}

interface Trigger {
  script: string;
  cron: string;
  /** Ticks at or before this were handled (claimed by someone, run or reported). */
  through: number;
}

/**
 * Cron Triggers' clock on every control-plane replica. Each pass claims each
 * due tick of each live script's crons in the store (`claimCronTick`: one
 * winner across replicas); the winner runs it on one node it holds
 * (CronDispatcher), or, if it was seen more than `missedAfterMs` late (the
 * cluster was down, the store unreachable), reports it missed instead. A
 * replica holding no node does not claim fresh ticks.
 */
export class CronScheduler {
  readonly #o: CronSchedulerOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #triggers = new Map<string, Trigger>();
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  #passing: Promise<void> | null = null;
  #closed = false;

  constructor(options: CronSchedulerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "cron" });
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#passing === null) this.#passing = this.pass().finally(() => (this.#passing = null));
    }, this.#o.pollMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#passing;
  }

  /** One look for due ticks (the timer calls it; tests may too). Never rejects. */
  async pass(): Promise<void> {
    const now = this.#now();
    try {
      if (now - this.#refreshedAt >= this.#o.refreshMs) await this.#refresh(now);
    } catch (err) {
      this.#log.warn({ err }, "cannot read Cron Triggers from the store");
    }
    for (const trigger of this.#triggers.values()) {
      if (this.#closed) return;
      try {
        await this.#handle(trigger, now);
      } catch (err) {
        // Store unreachable: the ticks are tried again next pass (and reported missed once too late).
        this.#log.warn({ err, script: trigger.script, cron: trigger.cron }, "cannot claim a cron tick");
      }
    }
  }

  async #refresh(now: number): Promise<void> {
    const snapshot = await this.#o.store.snapshot();
    const next = new Map<string, Trigger>();
    for (const version of snapshot.scripts) {
      for (const cron of version.crons) {
        const key = `${version.name}\n${cron}`;
        // Ticks before the version existed were never due; a new replica looks back a while.
        const from = Math.max(version.createdAt, now - this.#o.lookbackMs);
        next.set(key, this.#triggers.get(key) ?? { script: version.name, cron, through: from });
      }
    }
    this.#triggers = next;
    this.#refreshedAt = now;
  }

  async #handle(trigger: Trigger, now: number): Promise<void> {
    const ticks = ticksBetween(trigger.cron, trigger.through, now, MAX_TICKS_PER_PASS);
    for (const tick of ticks) {
      const late = now - tick > this.#o.missedAfterMs;
      // A replica without nodes leaves fresh ticks to one that has some (or reports them missed later).
      if (!late && this.#o.dispatcher.nodeCount() === 0) return;
      const claimed = await this.#o.store.claimCronTick({
        name: trigger.script,
        cron: trigger.cron,
        tick,
        owner: this.#o.replicaId,
        ttlMs: this.#o.lookbackMs + 2 * this.#o.missedAfterMs,
      });
      trigger.through = tick;
      if (!claimed) continue;
      const event = { script: trigger.script, cron: trigger.cron, scheduledTime: tick };
      if (late) {
        this.#log.warn({ ...event, lateMs: now - tick }, "cron tick missed: not run late");
        this.#o.onOutcome?.({ ...event, outcome: "missed" });
        continue;
      }
      void this.#o.dispatcher.run(trigger.script, trigger.cron, tick).then((result) => {
        const level = result.outcome === "ok" ? "info" : "warn";
        this.#log[level]({ ...result }, "cron tick run");
        this.#o.onOutcome?.(result);
      });
    }
  }
}
