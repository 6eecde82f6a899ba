import type { ControlMessage, ScheduledReport } from "@edge/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeLink } from "../push/telemetry-hooks.js";
import { createRedisStore } from "../store/redis.js";
import type { Store } from "../store/types.js";
import { type RedisServer, startRedisServer } from "../testing/redis-server.js";
import { CronDispatcher, type CronRunResult } from "./cron-dispatcher.js";
import { CronScheduler, type MissedTick } from "./cron-scheduler.js";

/**
 * Two control-plane replicas (schedulers) on one real Redis, each holding its
 * own nodes. The clock is the test's; each pass is called directly. A node
 * here is the stream end the dispatcher talks to: it answers RunScheduled
 * with "started" and "finished" as a real node's agent does, or goes away.
 */

const logger = pino({ level: "silent" });
let redis: RedisServer;
let prefix = 0;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

type Behaviour = "run" | "vanish-before-start" | "vanish-after-start" | "refuse";

class TestNode implements NodeLink {
  readonly runs: Array<{ script: string; cron: string; tick: number }> = [];
  constructor(
    readonly id: string,
    readonly dispatcher: CronDispatcher,
    public behaviour: Behaviour = "run",
    readonly pop = "fra",
  ) {
    dispatcher.hooks.opened?.(this);
  }
  send(msg: NonNullable<ControlMessage["msg"]>): boolean {
    if (msg.$case !== "runScheduled") return true;
    const run = msg.value;
    const report = (r: Partial<ScheduledReport>) =>
      queueMicrotask(() =>
        this.dispatcher.hooks.message?.(this, {
          $case: "scheduledReport",
          value: {
            runId: run.runId,
            phase: "finished",
            outcome: "ok",
            errorCode: "",
            errorMessage: "",
            cpuMs: 1,
            wallMs: 1,
            noRetry: false,
            version: 1,
            ...r,
          },
        }),
      );
    if (this.behaviour === "vanish-before-start") {
      queueMicrotask(() => this.dispatcher.hooks.closed?.(this));
      return true;
    }
    if (this.behaviour === "refuse") {
      report({ outcome: "unavailable", errorCode: "EDGE_SCRIPT_NOT_FOUND" });
      return true;
    }
    this.runs.push({ script: run.script, cron: run.cron, tick: Number(run.scheduledTimeMs) });
    report({ phase: "started" });
    if (this.behaviour === "vanish-after-start") queueMicrotask(() => this.dispatcher.hooks.closed?.(this));
    else report({ phase: "finished", outcome: "ok" });
    return true;
  }
}

interface Replica {
  store: Store;
  dispatcher: CronDispatcher;
  scheduler: CronScheduler;
  outcomes: Array<CronRunResult | MissedTick>;
}

let clock = 0;
async function replica(keyPrefix: string, id: string): Promise<Replica> {
  const store = await createRedisStore(redis.url, { keyPrefix });
  const dispatcher = new CronDispatcher(logger);
  const outcomes: Array<CronRunResult | MissedTick> = [];
  const scheduler = new CronScheduler({
    store,
    dispatcher,
    logger,
    replicaId: id,
    pollMs: 1_000,
    refreshMs: 0,
    missedAfterMs: 60_000,
    lookbackMs: 300_000,
    now: () => clock,
    onOutcome: (o) => outcomes.push(o),
  });
  return { store, dispatcher, scheduler, outcomes };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);

async function cluster(): Promise<[Replica, Replica]> {
  const keyPrefix = `cron-test-${prefix++}:`;
  const a = await replica(keyPrefix, "cp-a");
  const b = await replica(keyPrefix, "cp-b");
  clock = T0 - 30_000;
  await a.store.putVersion(
    "job",
    {
      sha256: "x",
      source: "export default {}",
      vars: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 1000 },
      crons: ["* * * * *"],
    },
    T0 - 30_000,
  );
  return [a, b];
}

async function passBoth(a: Replica, b: Replica): Promise<void> {
  await Promise.all([a.scheduler.pass(), b.scheduler.pass()]);
  await settle();
}

describe("Cron Trigger scheduling across replicas", () => {
  it("runs each tick exactly once across two replicas, on one node, while a node and a replica go away", async () => {
    const [a, b] = await cluster();
    const nodes = [
      new TestNode("n1", a.dispatcher),
      new TestNode("n2", a.dispatcher),
      new TestNode("n3", b.dispatcher),
    ];
    for (let i = 0; i < 5; i++) {
      clock = T0 + i * MIN + 500;
      if (i === 2) a.dispatcher.hooks.closed?.(nodes[0]!); // node n1 is killed
      if (i >= 3)
        await b.scheduler.pass(); // replica A is gone
      else await passBoth(a, b);
      await settle();
    }
    const ran = nodes.flatMap((n) => n.runs.map((r) => r.tick)).sort();
    expect(ran).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MIN));
    const outcomes = [...a.outcomes, ...b.outcomes].map((o) => [o.scheduledTime, o.outcome]).sort();
    expect(outcomes).toEqual([0, 1, 2, 3, 4].map((i) => [T0 + i * MIN, "ok"]));
    await a.store.close();
    await b.store.close();
  });

  it("gives a tick to another node when its node goes away before starting it, never after", async () => {
    const [a, b] = await cluster();
    const flaky = new TestNode("flaky", a.dispatcher, "vanish-before-start");
    const good = new TestNode("good", a.dispatcher);
    clock = T0 + 500;
    await a.scheduler.pass();
    await settle();
    expect(flaky.runs).toEqual([]);
    expect(good.runs.map((r) => r.tick)).toEqual([T0]);
    // Now the only node leaves after "started": the tick is lost, not run twice.
    good.behaviour = "vanish-after-start";
    clock = T0 + MIN + 500;
    await a.scheduler.pass();
    await settle();
    expect(good.runs.map((r) => r.tick)).toEqual([T0, T0 + MIN]);
    expect(a.outcomes.map((o) => o.outcome)).toEqual(["ok", "lost"]);
    await a.store.close();
    await b.store.close();
  });

  it("reports ticks missed while the cluster was down once, and does not run them late", async () => {
    const [a, b] = await cluster();
    const node = new TestNode("n1", b.dispatcher);
    // Nobody looked for three minutes.
    clock = T0 + 3 * MIN + 500;
    await passBoth(a, b);
    expect(node.runs.map((r) => r.tick)).toEqual([T0 + 3 * MIN]);
    const missed = [...a.outcomes, ...b.outcomes].filter((o) => o.outcome === "missed");
    expect(missed.map((o) => o.scheduledTime).sort()).toEqual([T0, T0 + MIN, T0 + 2 * MIN]);
    await a.store.close();
    await b.store.close();
  });

  it("reports a tick no node could start as unavailable", async () => {
    const [a, b] = await cluster();
    new TestNode("n1", a.dispatcher, "refuse");
    new TestNode("n2", a.dispatcher, "refuse");
    clock = T0 + 500;
    await a.scheduler.pass();
    await settle();
    expect(a.outcomes).toMatchObject([{ outcome: "unavailable", errorCode: "EDGE_NO_NODE" }]);
    await a.store.close();
    await b.store.close();
  });
});
