import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestWithHost } from "@edge/edge-node/testing";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, runCli } from "./harness/cli.js";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  hit,
  POPS,
  startControlPlane,
  startEdgeNode,
  TOKEN,
} from "./harness/cluster.js";

const CHATTY = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    console.log("hit", url.pathname);
    if (url.pathname === "/fail") throw new Error("failed on purpose at " + url.pathname);
    return Response.json({ who: env.WHO ?? null, version: VERSION });
  },
};
const VERSION = "__V__";
`;

interface TailEvent {
  type: string;
  pop: string;
  method: string;
  url: string;
  status: number;
  error: { code: string; message: string } | null;
  logs: Array<{ level: string; message: string }>;
}

/**
 * Operating the platform with edgectl, driven as a child process against a
 * real cluster (control plane on SQLite + three PoPs): deploy and watch the
 * rollout, tail logs of real requests, read metrics that match the requests
 * sent, and scrape Prometheus output with a real parser.
 */
describe("edgectl against a real local cluster", () => {
  let dir: string;
  let cp: ControlPlane;
  let nodes: EdgeNodeProc[] = [];
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env, home: dir, cwd: dir });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edge-e2e-cli-"));
    cp = await startControlPlane(`sqlite:${join(dir, "cp.db")}`);
    nodes = await Promise.all(POPS.map((p) => startEdgeNode(p, cp.grpcPort)));
    env = { EDGE_API_URL: cp.api, EDGE_API_TOKEN: TOKEN };
    await eventually(
      async () => {
        const { json } = await api(cp, "GET", "/v1/nodes");
        const list = (json?.nodes ?? []) as Array<{ status: string }>;
        return list.filter((n) => n.status === "healthy").length === POPS.length;
      },
      "every node healthy",
      30_000,
    );
    writeFileSync(join(dir, "chatty.js"), CHATTY.replace("__V__", "one"));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await cp?.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys a script and prints the rollout until every PoP runs it", async () => {
    const res = await cli("deploy", "chatty.js", "--name", "chatty", "--var", "WHO=edgectl");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^deployed chatty v1 \(sha256 [0-9a-f]{12}\)\n/);
    // The rollout's last line, then where the script answers: each PoP, and the router.
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines.at(-5)).toBe("3/3 PoPs on v1");
    for (const node of nodes) {
      const port = new URL(node.base).port;
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^  ${node.pop}\\s+http://chatty\\.localhost:${port}/$`)),
      );
    }
    expect(lines.at(-1)).toMatch(/^ {2}router\s+http:\/\/chatty\.localhost:8000\/ {2}\(nearest PoP\)$/);
    for (const node of nodes) {
      const answer = await hit(node, "chatty");
      expect(answer).toMatchObject({ status: 200, version: "1" });
      expect(JSON.parse(answer.text)).toEqual({ who: "edgectl", version: "one" });
    }
  });

  it("deploys v2 with --json and reports the complete rollout as data", async () => {
    writeFileSync(join(dir, "chatty.js"), CHATTY.replace("__V__", "two"));
    const res = await cli("deploy", "chatty.js", "--name", "chatty", "--json");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      name: "chatty",
      version: 2,
      rollout: { pops: 3, popsOnVersion: 3, complete: true, waitingFor: [], rejected: [] },
    });
    expect(res.stderr.trimEnd().split("\n").at(-1)).toBe("3/3 PoPs on v2");
  });

  it("lists scripts, versions and nodes as tables and as JSON", async () => {
    const list = await cli("list");
    expect(list.stdout).toMatch(/^NAME\s+ACTIVE\s+LATEST\s+UPDATED\nchatty\s+v2\s+v2\s+/);
    const versions = JSON.parse((await cli("versions", "chatty", "--json")).stdout) as Array<{
      version: number;
    }>;
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    const table = (await cli("nodes")).stdout;
    for (const pop of ["fra", "iad", "sin"])
      expect(table).toMatch(new RegExp(`^${pop}-1\\s+${pop}\\s+healthy`, "m"));
  });

  it("tails console lines, exceptions and request summaries of real requests on every PoP", async () => {
    const tail = new CliProcess(["tail", "chatty", "--json"], { env, home: dir });
    try {
      await tail.waitFor(() => tail.stderr.some((l) => l.startsWith("tailing chatty")), "the tail to open");
      const events = () => tail.stdout.map((l) => JSON.parse(l) as TailEvent);
      // The session reaches the nodes on their own streams: probe until every PoP ships.
      await eventually(async () => {
        await Promise.all(nodes.map((n) => hit(n, "chatty", "/probe")));
        return new Set(events().map((e) => e.pop)).size === 3;
      }, "every PoP ships tail events");
      for (const node of nodes) await hit(node, "chatty", "/tail-me");
      await hit(nodes[1] as EdgeNodeProc, "chatty", "/fail");
      await tail.waitFor(
        () =>
          events().filter((e) => e.url.endsWith("/tail-me")).length === 3 &&
          events().some((e) => e.url.endsWith("/fail")),
        "the requests",
      );
      const tailed = events().filter((e) => e.url.endsWith("/tail-me"));
      expect(tailed.map((e) => e.pop).sort()).toEqual(["fra", "iad", "sin"]);
      for (const e of tailed) {
        expect(e).toMatchObject({ type: "request", method: "GET", status: 200, error: null });
        expect(e.logs).toEqual([{ level: "log", message: "hit /tail-me", time: expect.any(String) }]);
      }
      const failed = events().find((e) => e.url.endsWith("/fail"));
      expect(failed).toMatchObject({ pop: "iad", status: 500, error: { code: "EDGE_SCRIPT_ERROR" } });
      expect(failed?.error?.message).toContain("failed on purpose at /fail");
    } finally {
      expect(await tail.stop()).toBe(0);
    }
  });

  it("filters a tail at the edge: only iad's errors reach a --status 5xx --pop iad tail", async () => {
    const tail = new CliProcess(
      ["tail", "chatty", "--status", "5xx", "--pop", "iad", "--json", "--count", "1"],
      {
        env,
        home: dir,
      },
    );
    await tail.waitFor(() => tail.stderr.some((l) => l.startsWith("tailing chatty")), "the tail to open");
    await eventually(async () => {
      for (const node of nodes) {
        await hit(node, "chatty", "/fine");
        await hit(node, "chatty", "/fail");
      }
      return tail.stdout.length > 0;
    }, "the iad error");
    expect(await tail.exited).toBe(0);
    const [only] = tail.stdout.map((l) => JSON.parse(l) as TailEvent);
    expect(only).toMatchObject({ pop: "iad", status: 500, url: expect.stringMatching(/\/fail$/) });
  });

  it("shows recent errors that happened while nobody was tailing", async () => {
    await hit(nodes[2] as EdgeNodeProc, "chatty", "/fail");
    const res = await cli("logs", "chatty", "--status", "error", "--pop", "sin", "--json");
    expect(res.code).toBe(0);
    const answer = JSON.parse(res.stdout) as { logs: TailEvent[]; nodes: { answered: string[] } };
    expect(answer.nodes.answered).toEqual(["sin-1"]);
    expect(answer.logs.length).toBeGreaterThan(0);
    expect(answer.logs.every((l) => l.pop === "sin" && l.status === 500)).toBe(true);
    expect(answer.logs.at(-1)?.error?.code).toBe("EDGE_SCRIPT_ERROR");
  });

  it("reports metrics that match the number of requests sent, per PoP and in total", async () => {
    writeFileSync(join(dir, "counted.js"), CHATTY.replace("__V__", "counted"));
    expect((await cli("deploy", "counted.js", "--name", "counted")).code).toBe(0);
    for (const node of nodes) for (let i = 0; i < 4; i++) await hit(node, "counted", `/n${i}`);
    await hit(nodes[0] as EdgeNodeProc, "counted", "/fail");
    const read = async () => JSON.parse((await cli("metrics", "counted", "--json")).stdout);
    await eventually(async () => (await read()).requests === 13, "13 requests in the metrics");
    // Reports are re-sent until stored and acknowledged: a moment later the count has not moved.
    await new Promise((r) => setTimeout(r, 1_000));
    const metrics = await read();
    expect(metrics).toMatchObject({
      script: "counted",
      requests: 13,
      errors: 1,
      statusClasses: { "2xx": 12, "5xx": 1 },
      errorsByCode: { EDGE_SCRIPT_ERROR: 1 },
    });
    expect(metrics.latencyMs.p50).toBeGreaterThan(0);
    expect(metrics.latencyMs.p99).toBeGreaterThanOrEqual(metrics.latencyMs.p90);
    expect(metrics.nodes.map((n: { pop: string; requests: number }) => [n.pop, n.requests])).toEqual([
      ["fra", 5],
      ["iad", 4],
      ["sin", 4],
    ]);
    expect(metrics.series.reduce((sum: number, p: { requests: number }) => sum + p.requests, 0)).toBe(13);
    const human = await cli("metrics", "counted");
    expect(human.stdout).toMatch(/^counted: 13 requests, 1 errors \(7\.7%\)/);
  });

  it("exposes Prometheus metrics on the control plane and every edge node that a real parser reads", async () => {
    const families = async (text: Promise<string>) =>
      new Map(parsePrometheusTextFormat(await text).map((f: ParsedFamily) => [f.name, f]));
    const cpText = await fetch(`${cp.api}/metrics`).then((r) => r.text());
    const controlPlane = await families(Promise.resolve(cpText));
    const requests = controlPlane.get("edge_requests_total");
    expect(requests?.type).toBe("COUNTER");
    const counted = (requests?.metrics ?? []).filter((m) => m.labels?.script === "counted");
    expect(counted.reduce((sum, m) => sum + Number(m.value), 0)).toBe(13);
    expect(new Set(counted.map((m) => m.labels?.pop))).toEqual(new Set(["fra", "iad", "sin"]));
    expect(counted.every((m) => m.labels?.version === "1")).toBe(true);
    const duration = controlPlane.get("edge_request_duration_seconds");
    expect(duration?.type).toBe("HISTOGRAM");
    // parse-prometheus-text-format 1.1 folds a histogram's labelled series into one and drops the
    // labels, so the per-series figures are read from the text itself.
    expect(cpText).toContain('edge_request_duration_seconds_count{pop="fra",script="counted",version="1"} 5');
    expect(cpText).toContain(
      'edge_request_duration_seconds_bucket{pop="fra",script="counted",version="1",le="+Inf"} 5',
    );
    expect(controlPlane.get("edge_nodes")?.metrics.find((m) => m.labels?.status === "healthy")?.value).toBe(
      "3",
    );

    const sin = nodes[2] as EdgeNodeProc;
    const res = await requestWithHost(sin.base, "127.0.0.1", "/metrics");
    expect(res.status).toBe(200);
    const edge = await families(Promise.resolve(res.text));
    const sinCounted =
      edge.get("edge_requests_total")?.metrics.filter((m) => m.labels?.script === "counted") ?? [];
    expect(sinCounted).toEqual([
      { value: "4", labels: { script: "counted", version: "1", status_class: "2xx", pop: "sin" } },
    ]);
    expect(edge.get("edge_in_flight_requests")?.metrics[0]?.labels).toEqual({ pop: "sin" });
    expect(edge.get("process_cpu_seconds_total")?.type).toBe("COUNTER");
  });

  it("explains routing for a location", async () => {
    const res = await cli("route", "--lat", "48.1", "--lon", "11.6", "--json");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).winner).toMatchObject({ pop: "fra" });
  });

  it("rolls back through edgectl and every PoP follows", async () => {
    const res = await cli("rollback", "chatty", "--to", "1");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^chatty: v1 is active\n/);
    expect(res.stdout.trimEnd().split("\n").at(-1)).toBe("3/3 PoPs on v1");
    for (const node of nodes) expect((await hit(node, "chatty")).version).toBe("1");
  });

  it("exits with codes scripts can rely on", async () => {
    expect((await cli("versions", "nope")).code).toBe(3);
    const broken = join(dir, "broken.js");
    writeFileSync(broken, "export default { fetch( {");
    expect((await cli("deploy", broken, "--name", "broken")).code).toBe(4);
    expect((await runCli(["list"], { env: { ...env, EDGE_API_TOKEN: "wrong" }, home: dir })).code).toBe(5);
    expect(
      (
        await runCli(["list"], {
          env: { EDGE_API_URL: "http://127.0.0.1:1", EDGE_API_TOKEN: TOKEN },
          home: dir,
        })
      ).code,
    ).toBe(6);
    expect((await cli("deploy")).code).toBe(2);
  });

  it("deletes a script and every PoP answers 404", async () => {
    const res = await cli("delete", "counted");
    expect(res).toMatchObject({ code: 0, stdout: "deleted counted\n" });
    await eventually(async () => {
      const answers = await Promise.all(nodes.map((n) => hit(n, "counted")));
      return answers.every((a) => a.status === 404);
    }, "404 everywhere");
  });
});
