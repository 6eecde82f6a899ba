import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeMessage, ScheduledReport } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

/** Cron Triggers on a real edge node, driven over a real gRPC stream. */
describe("an edge node running scheduled events", () => {
  let cp: ScriptedControlPlane;
  let node: EdgeNode;
  let cacheDir: string;

  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-node-cron-"));
    cp = new ScriptedControlPlane();
    const grpcPort = await cp.listen();
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-cron",
      EDGE_LAT: "50.11",
      EDGE_LON: "8.68",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
      EDGE_METRICS_INTERVAL_MS: "100",
      EDGE_CACHE_DIR: cacheDir,
    });
    node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
    await node.start();
    await cp.waitFor((m) => m.msg?.$case === "hello");
  });

  afterEach(async () => {
    await node.stop();
    await cp.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const report = (runId: string, phase: string) =>
    cp.waitFor(
      (m) => m.msg?.$case === "scheduledReport" && m.msg.value.runId === runId && m.msg.value.phase === phase,
    );
  const reportOf = (m: NodeMessage) => (m.msg as { value: ScheduledReport }).value;

  it("reports started then finished with the outcome, and counts the run as a SCHEDULED request", async () => {
    const source = `export default {
      scheduled(controller) { if (controller.cron === "0 0 * * *") throw new Error("nightly broke"); },
    };`;
    await cp.push({ configVersion: 1, full: true, upserts: [script("job", 4, source)], removals: [] });
    cp.send({
      $case: "runScheduled",
      value: { runId: "r1", script: "job", cron: "*/5 * * * *", scheduledTimeMs: 1_000 },
    });
    expect(reportOf(await report("r1", "started"))).toMatchObject({ version: 4 });
    expect(reportOf(await report("r1", "finished"))).toMatchObject({
      outcome: "ok",
      errorCode: "",
      version: 4,
    });
    cp.send({
      $case: "runScheduled",
      value: { runId: "r2", script: "job", cron: "0 0 * * *", scheduledTimeMs: 2_000 },
    });
    const failed = reportOf(await report("r2", "finished"));
    expect(failed).toMatchObject({ outcome: "exception", errorCode: "EDGE_SCRIPT_ERROR" });
    expect(failed.errorMessage).toContain("nightly broke");
    // Metrics windows are deltas: the two runs may land in different reports, so they are summed.
    const totals = () => {
      let requests = 0;
      let errors = 0;
      for (const m of cp.received) {
        if (m.msg?.$case !== "metrics") continue;
        for (const s of m.msg.value.scripts) {
          if (s.script !== "job") continue;
          requests += Number(s.requests);
          errors += Number(s.errors);
        }
      }
      return { requests, errors };
    };
    for (let i = 0; i < 200 && totals().requests < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(totals()).toEqual({ requests: 2, errors: 1 });
  });

  it("answers unavailable, without starting, for a script it does not hold", async () => {
    cp.send({
      $case: "runScheduled",
      value: { runId: "r3", script: "ghost", cron: "* * * * *", scheduledTimeMs: 0 },
    });
    expect(reportOf(await report("r3", "finished"))).toMatchObject({
      outcome: "unavailable",
      errorCode: "EDGE_SCRIPT_NOT_FOUND",
    });
    expect(
      cp.received.some((m) => m.msg?.$case === "scheduledReport" && m.msg.value.phase === "started"),
    ).toBe(false);
  });
});
