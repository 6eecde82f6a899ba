import type { Config } from "../config.js";
import type { CronRunResult } from "../cron/cron-dispatcher.js";
import type { KvChangeListener } from "../kv/types.js";
import type { MetricsSource, PushHub } from "../push/types.js";
import type { Store } from "../store/types.js";
import type { TailService } from "../tail/tail-hub.js";

/** What every route plugin is registered with. */
export interface RouteDeps {
  config: Config;
  store: Store;
  hub: PushHub;
  metrics: MetricsSource;
  tail: TailService;
  /** Told after every KV write, so replication to nodes starts at once. */
  kv: KvChangeListener;
  /** Runs a scheduled event on a node now (`src/cron/`); null: no node can be reached. */
  cron: CronRunner | null;
}

/** What `POST /v1/scripts/:name/scheduled` needs of Cron Triggers' dispatcher. */
export interface CronRunner {
  run(script: string, cron: string, scheduledTime: number): Promise<CronRunResult>;
}
