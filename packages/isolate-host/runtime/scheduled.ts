/**
 * The in-isolate half of a Cron Trigger run: calls the script's
 * `scheduled(controller, env, ctx)` handler (Cloudflare's ScheduledController:
 * `cron`, `scheduledTime`, `type`, `noRetry()`) and reports what happened as
 * plain data. ctx.waitUntil() work is then awaited by the host through
 * settle(), as after a fetch.
 */

import { markResponded } from "./admission/run-state.js";
import { describeError, stackOf } from "./describe-error.js";
import { defaultExport, ExecutionContext, pendingWaitUntil } from "./dispatch.js";
import { withKvBindings } from "./kv/namespace.js";
import { markIo } from "./performance.js";

/** What the host sends: the trigger's expression and the tick it is for (epoch ms). */
export interface HostScheduledEvent {
  cron: string;
  scheduledTime: number;
}

export type ScheduledOutcome =
  | { ok: true; noRetry: boolean; waitUntil: number }
  | {
      ok: false;
      code: "EDGE_SCRIPT_ERROR" | "EDGE_NO_SCHEDULED_HANDLER";
      message: string;
      stack?: string;
      noRetry: boolean;
    };

let retry = true;

class ScheduledController {
  readonly #cron: string;
  readonly #scheduledTime: number;
  constructor(cron: string, scheduledTime: number) {
    this.#cron = cron;
    this.#scheduledTime = scheduledTime;
  }
  get cron(): string {
    return this.#cron;
  }
  get scheduledTime(): number {
    return this.#scheduledTime;
  }
  get type(): "scheduled" {
    return "scheduled";
  }
  noRetry(): void {
    retry = false;
  }
  get [Symbol.toStringTag](): string {
    return "ScheduledController";
  }
}

export async function scheduled(
  namespace: Record<string, unknown>,
  event: HostScheduledEvent,
  env: Record<string, string>,
  kvBindings?: readonly string[],
): Promise<ScheduledOutcome> {
  markIo();
  try {
    const handler = defaultExport(namespace);
    const run = handler?.scheduled;
    if (typeof run !== "function") {
      return {
        ok: false,
        code: "EDGE_NO_SCHEDULED_HANDLER",
        message: "The script has no default export with a scheduled() method",
        noRetry: !retry,
      };
    }
    const controller = new ScheduledController(String(event.cron), Number(event.scheduledTime));
    const fullEnv = kvBindings && kvBindings.length > 0 ? withKvBindings(env, kvBindings) : env;
    await Reflect.apply(run, handler, [controller, fullEnv, new ExecutionContext()]);
    return { ok: true, noRetry: !retry, waitUntil: pendingWaitUntil() };
  } catch (err) {
    return {
      ok: false,
      code: "EDGE_SCRIPT_ERROR",
      message: describeError(err),
      stack: stackOf(err),
      noRetry: !retry,
    };
  } finally {
    markResponded();
  }
}
