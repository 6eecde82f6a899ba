import type { RequestTrace, TailFilter } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  eventually,
  startTestControlPlane,
  type TestControlPlane,
  type TestNode,
} from "../grpc/test-node.js";
import { TailHub } from "./tail-hub.js";

const noFilter: TailFilter = { pops: [], methods: [], statuses: [], search: "", sampleRate: 0 };

function trace(url: string, fields: Partial<RequestTrace> = {}): RequestTrace {
  return {
    script: "hello",
    version: 1,
    pop: "fra",
    nodeId: "fra-1",
    timeMs: Date.now(),
    method: "GET",
    url,
    status: 200,
    cpuMs: 0.4,
    wallMs: 2,
    errorCode: "",
    errorMessage: "",
    logs: [],
    ...fields,
  };
}

/** The sessions a node was last told about. */
function sessionsSeen(node: TestNode): string[] | null {
  const last = node.messages.filter((m) => m.msg?.$case === "tailSessions").at(-1);
  return last?.msg?.$case === "tailSessions" ? last.msg.value.sessions.map((s) => s.script) : null;
}

describe("tail hub over real node streams", () => {
  let cp: TestControlPlane;
  let tail: TailHub;

  beforeEach(async () => {
    tail = new TailHub({
      logger: pino({ level: "silent" }),
      bufferSize: 3,
      maxSessions: 2,
      logsTimeoutMs: 300,
    });
    cp = await startTestControlPlane({
      telemetry: {
        opened: (n) => tail.opened(n),
        closed: (n) => tail.closed(n),
        message: (n, m) => tail.message(n, m),
      },
    });
  });

  afterEach(async () => {
    tail.shutdown();
    await cp.close();
  });

  const connect = async (id: string, pop: string): Promise<TestNode> => {
    const node = cp.node();
    node.hello(id, { pop });
    await node.until(() => sessionsSeen(node) !== null, `${id} told the open sessions`);
    return node;
  };

  it("tells connected and newly connecting nodes which sessions concern their PoP", async () => {
    const fra = await connect("fra-1", "fra");
    expect(sessionsSeen(fra)).toEqual([]);
    const all = tail.open("hello", noFilter);
    tail.open("other", { ...noFilter, pops: ["iad"] });
    await fra.until(() => sessionsSeen(fra)?.length === 1, "the first session");
    const iad = await connect("iad-1", "iad");
    expect(sessionsSeen(iad)).toEqual(["hello", "other"]);
    tail.close(all);
    await fra.until(() => sessionsSeen(fra)?.length === 0, "the session closed");
    expect(() => tail.open("third", noFilter)).not.toThrow();
    expect(() => tail.open("fourth", noFilter)).toThrow(
      expect.objectContaining({ code: "EDGE_TOO_MANY_TAILS" }),
    );
  });

  it("routes shipped traces to their sessions and counts what a full queue and the nodes dropped", async () => {
    const fra = await connect("fra-1", "fra");
    const a = tail.open("hello", noFilter);
    const b = tail.open("hello", { ...noFilter, statuses: ["5xx"] });
    fra.send({
      $case: "tail",
      value: {
        deliveries: [
          { trace: trace("/1"), sessionIds: [a.id] },
          { trace: trace("/2", { status: 500 }), sessionIds: [a.id, b.id] },
          { trace: trace("/3"), sessionIds: [a.id] },
          { trace: trace("/4"), sessionIds: [a.id] },
        ],
        dropped: { [b.id]: 7 },
      },
    });
    await eventually(() => a.queued === 3 && b.queued === 1, "traces routed");
    const fromA = a.take(10);
    expect(fromA.traces.map((t) => t.url)).toEqual(["/1", "/2", "/3"]);
    expect(fromA.dropped).toBe(1);
    const fromB = b.take(10);
    expect(fromB.dropped).toBe(7);
    expect(fromB.traces.map((t) => t.url)).toEqual(["/2"]);
    expect(tail.droppedTotal).toBe(1);
  });

  it("gathers log history from every node of the PoPs asked, and names the nodes that did not answer", async () => {
    const fra = await connect("fra-1", "fra");
    const iad = await connect("iad-1", "iad");
    const silent = await connect("sin-1", "sin");
    const answering = (node: TestNode, traces: RequestTrace[]) => {
      const seen = new Set<string>();
      const check = () => {
        for (const m of node.messages) {
          if (m.msg?.$case !== "logsQuery" || seen.has(m.msg.value.queryId)) continue;
          seen.add(m.msg.value.queryId);
          node.send({
            $case: "logsReply",
            value: { queryId: m.msg.value.queryId, traces, truncated: false },
          });
        }
      };
      return setInterval(check, 10);
    };
    const t0 = Date.now();
    const timers = [
      answering(fra, [trace("/fra-old", { timeMs: t0 - 2 }), trace("/fra-new", { timeMs: t0 })]),
      answering(iad, [trace("/iad", { timeMs: t0 - 1, pop: "iad", nodeId: "iad-1" })]),
    ];
    try {
      const everywhere = await tail.queryLogs("hello", { sinceMs: 0, limit: 2, filter: noFilter });
      expect(everywhere.traces.map((t) => t.url)).toEqual(["/iad", "/fra-new"]);
      expect(everywhere).toMatchObject({ truncated: true, answered: ["fra-1", "iad-1"], missing: ["sin-1"] });
      expect(silent.messages.some((m) => m.msg?.$case === "logsQuery")).toBe(true);

      const iadOnly = await tail.queryLogs("hello", {
        sinceMs: 0,
        limit: 10,
        filter: { ...noFilter, pops: ["iad"] },
      });
      expect(iadOnly).toMatchObject({ truncated: false, answered: ["iad-1"], missing: [] });
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });
});
