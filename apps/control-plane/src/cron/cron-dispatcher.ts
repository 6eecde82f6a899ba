import { randomUUID } from "node:crypto";
import type { ScheduledReport } from "@edge/protocol";
import type { Logger } from "pino";
import type { NodeLink, NodeTelemetryHooks } from "../push/telemetry-hooks.js";

/**
 * How one claimed tick ended, as this replica saw it: the node's outcome
 * (ok / exception / limit), `lost` (the node went away after it had started
 * the handler: never run again), or `unavailable` (no node could start it).
 */
export type CronOutcome = "ok" | "exception" | "limit" | "lost" | "unavailable";

export interface CronRunResult {
  script: string;
  cron: string;
  scheduledTime: number;
  outcome: CronOutcome;
  nodeId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  noRetry: boolean;
}

interface Run {
  id: string;
  script: string;
  cron: string;
  scheduledTime: number;
  node: NodeLink | null;
  started: boolean;
  tried: Set<string>;
  done: (result: CronRunResult) => void;
}

/**
 * Hands claimed ticks to the nodes this replica holds (RunScheduled on their
 * streams) and follows them to the end. A node that fails or goes away
 * before it reported "started" is replaced by another one for the same
 * claim; after "started" the run is never repeated (outcome `lost` if the
 * node leaves without "finished").
 */
export class CronDispatcher {
  readonly #nodes = new Map<string, NodeLink>();
  readonly #runs = new Map<string, Run>();
  readonly #log: Logger;

  constructor(logger: Logger) {
    this.#log = logger.child({ component: "cron" });
  }

  /** Plugs into the push hub's node streams (see combineHooks). */
  readonly hooks: NodeTelemetryHooks = {
    opened: (node) => {
      this.#nodes.set(node.id, node);
    },
    closed: (node) => {
      if (this.#nodes.get(node.id) === node) this.#nodes.delete(node.id);
      for (const run of [...this.#runs.values()]) {
        if (run.node !== node) continue;
        if (run.started) this.#finish(run, { outcome: "lost", errorCode: "EDGE_NODE_LOST" });
        else this.#send(run);
      }
    },
    message: (node, msg) => {
      if (msg.$case === "scheduledReport") this.#onReport(node, msg.value);
    },
  };

  /** Nodes this replica holds now. */
  nodeCount(): number {
    return this.#nodes.size;
  }

  /** Runs one tick on one node; resolves once it finished, was lost or found no node. Never rejects. */
  run(script: string, cron: string, scheduledTime: number): Promise<CronRunResult> {
    return new Promise((done) => {
      const run: Run = {
        id: randomUUID(),
        script,
        cron,
        scheduledTime,
        node: null,
        started: false,
        tried: new Set(),
        done,
      };
      this.#runs.set(run.id, run);
      this.#send(run);
    });
  }

  /** Ends every run still waiting (shutdown). */
  close(): void {
    for (const run of [...this.#runs.values()]) {
      this.#finish(run, { outcome: run.started ? "lost" : "unavailable", errorCode: "EDGE_SHUTTING_DOWN" });
    }
  }

  /** To the least busy node not tried yet; none left: `unavailable`. */
  #send(run: Run): void {
    const candidates = [...this.#nodes.values()].filter((node) => !run.tried.has(node.id));
    const busy = (node: NodeLink) => [...this.#runs.values()].filter((r) => r.node === node).length;
    candidates.sort((a, b) => busy(a) - busy(b) || Math.random() - 0.5);
    for (const node of candidates) {
      run.tried.add(node.id);
      run.node = node;
      const sent = node.send({
        $case: "runScheduled",
        value: {
          runId: run.id,
          script: run.script,
          cron: run.cron,
          scheduledTimeMs: run.scheduledTime,
        },
      });
      if (sent) return;
    }
    run.node = null;
    this.#finish(run, { outcome: "unavailable", errorCode: "EDGE_NO_NODE" });
  }

  #onReport(node: NodeLink, report: ScheduledReport): void {
    const run = this.#runs.get(report.runId);
    if (run === undefined || run.node !== node) return;
    if (report.phase === "started") {
      run.started = true;
      return;
    }
    if (report.phase !== "finished") return;
    if (report.outcome === "unavailable" && !run.started) {
      this.#log.debug(
        { script: run.script, nodeId: node.id, code: report.errorCode },
        "node cannot run the tick",
      );
      this.#send(run);
      return;
    }
    const outcome = (["ok", "exception", "limit"] as const).find((o) => o === report.outcome) ?? "exception";
    this.#finish(run, {
      outcome,
      errorCode: report.errorCode || null,
      errorMessage: report.errorMessage || null,
      noRetry: report.noRetry,
    });
  }

  #finish(
    run: Run,
    result: {
      outcome: CronOutcome;
      errorCode?: string | null;
      errorMessage?: string | null;
      noRetry?: boolean;
    },
  ): void {
    if (!this.#runs.delete(run.id)) return;
    run.done({
      script: run.script,
      cron: run.cron,
      scheduledTime: run.scheduledTime,
      outcome: result.outcome,
      nodeId: run.node?.id ?? null,
      errorCode: result.errorCode ?? null,
      errorMessage: result.errorMessage ?? null,
      noRetry: result.noRetry ?? false,
    });
  }
}
