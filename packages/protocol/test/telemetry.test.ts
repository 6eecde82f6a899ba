import { describe, expect, it } from "vitest";
import {
  ControlMessage,
  CPU_BOUNDS_MS,
  LATENCY_BOUNDS_MS,
  type MetricsReport,
  NodeMessage,
} from "../src/index.js";

describe("telemetry on the Connect stream", () => {
  it("round-trips a metrics report with its delivery number, status classes, error codes and node figures", () => {
    const report: MetricsReport = {
      windowStartMs: 1_000,
      windowEndMs: 6_000,
      latencyBoundsMs: [...LATENCY_BOUNDS_MS],
      cpuBoundsMs: [...CPU_BOUNDS_MS],
      reporterId: "r-1",
      sequence: 42,
      node: {
        inFlight: 2,
        isolatesCreated: 9,
        eventLoopLagP99Ms: 1.25,
        eventLoopLagMaxMs: 4,
        cpuLoad: 0.5,
        rssBytes: 123_456_789,
        heapUsedBytes: 2_345_678,
      },
      scripts: [
        {
          script: "hello",
          version: 3,
          requests: 9,
          errors: 1,
          cpuMsTotal: 4.5,
          latencyMsTotal: 30,
          latencyBuckets: [1, 8],
          statusClasses: { "2xx": 8, "5xx": 1 },
          errorsByCode: { EDGE_CPU_LIMIT: 1 },
          cpuBuckets: [7, 2],
          isolateStarts: 0,
          isolateStartMsTotal: 0,
          memorySamples: 0,
          memoryBytesTotal: 0,
          kvOps: {},
        },
      ],
    };
    const bytes = NodeMessage.encode({ msg: { $case: "metrics", value: report } }).finish();
    expect(NodeMessage.decode(bytes)).toEqual({ msg: { $case: "metrics", value: report } });
  });

  it("round-trips tail batches, log replies and the control plane's tail, log and ACK messages", () => {
    const trace = {
      script: "hello",
      version: 1,
      pop: "fra",
      nodeId: "fra-1",
      timeMs: 1_700_000_000_000,
      method: "POST",
      url: "http://hello.localhost/x",
      status: 500,
      cpuMs: 1.5,
      wallMs: 3,
      errorCode: "EDGE_SCRIPT_ERROR",
      errorMessage: "Error: boom",
      logs: [{ level: "warn", message: "careful", timeMs: 1_700_000_000_001 }],
    };
    const node: NodeMessage[] = [
      {
        msg: {
          $case: "tail",
          value: { deliveries: [{ trace, sessionIds: ["s1", "s2"] }], dropped: { s1: 3 } },
        },
      },
      { msg: { $case: "logsReply", value: { queryId: "q", traces: [trace], truncated: true } } },
    ];
    for (const message of node)
      expect(NodeMessage.decode(NodeMessage.encode(message).finish())).toEqual(message);
    const filter = { pops: ["fra"], methods: ["GET"], statuses: ["5xx"], search: "boom", sampleRate: 0.25 };
    const control: ControlMessage[] = [
      { msg: { $case: "metricsAck", value: { reporterId: "r-1", upToSequence: 42 } } },
      { msg: { $case: "tailSessions", value: { sessions: [{ id: "s1", script: "hello", filter }] } } },
      {
        msg: { $case: "logsQuery", value: { queryId: "q", script: "hello", sinceMs: 5, limit: 100, filter } },
      },
    ];
    for (const message of control)
      expect(ControlMessage.decode(ControlMessage.encode(message).finish())).toEqual(message);
  });
});
