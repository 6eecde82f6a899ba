import type { IsolateRunner, ScheduledResult } from "@edge/isolate-host";
import { isRunError } from "@edge/isolate-host";
import type { RunScheduled, ScheduledReport } from "@edge/protocol";
import type { Logger } from "pino";
import type { RequestOutcome } from "../request-outcome.js";
import type { ScriptRegistry } from "../script-registry.js";

/** The status a scheduled run shows in the tail and metrics (there is no HTTP response). */
const STATUS: Record<ScheduledResult["outcome"], number> = { ok: 200, exception: 500, limit: 503 };

export interface ScheduledRunsDeps {
  registry: ScriptRegistry;
  runner: IsolateRunner;
  logger: Logger;
  /** Where the outcome goes: the metrics collector and the log tail, as for a request. */
  observe: (outcome: RequestOutcome) => void;
}

/**
 * Runs the Cron Trigger ticks a control plane hands this node (RunScheduled):
 * reports "started" right before the handler runs, then "finished" with the
 * outcome, and records the run as a request with method SCHEDULED and the
 * cron as its URL (so the tail, the logs and /v1/metrics show it).
 */
export class ScheduledRuns {
  readonly #deps: ScheduledRunsDeps;
  readonly #log: Logger;

  constructor(deps: ScheduledRunsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: "cron" });
  }

  async run(request: RunScheduled, report: (message: ScheduledReport) => void): Promise<void> {
    const base: ScheduledReport = {
      runId: request.runId,
      phase: "finished",
      outcome: "unavailable",
      errorCode: "",
      errorMessage: "",
      cpuMs: 0,
      wallMs: 0,
      noRetry: false,
      version: 0,
    };
    const script = this.#deps.registry.get(request.script);
    if (script === undefined) {
      report({
        ...base,
        errorCode: "EDGE_SCRIPT_NOT_FOUND",
        errorMessage: "This node does not hold the script",
      });
      return;
    }
    const startedAt = Date.now();
    report({ ...base, phase: "started", outcome: "", version: script.version });
    const event = { cron: request.cron, scheduledTime: Number(request.scheduledTimeMs) };
    let result: ScheduledResult;
    try {
      // A version not prepared yet (restored from the cache, or dropped as idle) is prepared now, once.
      result = await this.#deps.runner.runScheduled(await script.prepare(), event);
    } catch (err) {
      // The version failed to prepare (its code, or load), or the node is overloaded or closing:
      // the tick is lost, not retried.
      this.#log.warn(
        { err, script: request.script, cron: request.cron },
        "scheduled run failed before the handler",
      );
      const message = err instanceof Error ? err.message : String(err);
      const code = isRunError(err) ? err.code : "EDGE_INTERNAL";
      report({ ...base, version: script.version, errorCode: code, errorMessage: message });
      return;
    }
    report({
      ...base,
      outcome: result.outcome,
      errorCode: result.error?.code ?? "",
      errorMessage: result.error?.message ?? "",
      cpuMs: result.cpuMs,
      wallMs: result.wallMs,
      noRetry: result.noRetry,
      version: script.version,
    });
    this.#deps.observe({
      script: script.name,
      version: script.version,
      method: "SCHEDULED",
      url: request.cron,
      status: STATUS[result.outcome],
      startedAt,
      latencyMs: result.wallMs,
      cpuMs: result.cpuMs,
      ranIsolate: true,
      errorCode: result.error?.code ?? null,
      errorMessage: result.error?.message ?? null,
      logs: result.logs,
      isolateStartMs: null,
      memoryBytes: null,
    });
  }
}
