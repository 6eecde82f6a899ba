import { createHash } from "node:crypto";
import {
  createGrpcServer,
  createMetricsAggregator,
  createSqliteMetricsStore,
  openStore,
  TailHub,
  telemetryHooks,
} from "@edge/control-plane";
import {
  type ControlMessage,
  ControlPlaneServiceClient,
  GRPC_CHANNEL_OPTIONS,
  type NodeMessage,
} from "@edge/protocol";
import { type ClientDuplexStream, credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import fc from "fast-check";
import { pino } from "pino";
import { count, type FuzzFigures, heapAfterGc, rssOf } from "./budget.js";

const id = fc.oneof(
  fc.constantFrom("fra-1", "iad-1", "x", "", "FRA-1", "a".repeat(64), "fra\u00001", "../etc"),
  fc.string({ maxLength: 70 }),
);
const num = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e308, -91, 181),
  fc.integer({ min: -1_000, max: 1_000 }),
);
const count64 = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 53 - 1, 9e15));
const releases = fc.dictionary(
  fc.oneof(id, fc.constant("hello")),
  fc.oneof(fc.constantFrom("1", "2+3@10", "x"), fc.string({ maxLength: 8 })),
  { maxKeys: 5 },
);

const hello = fc.record({
  nodeId: id,
  pop: fc.oneof(fc.constantFrom("fra", "iad"), id),
  lat: num,
  lon: num,
  httpAddress: fc.oneof(
    fc.constantFrom("127.0.0.1:8101", "http://x:1", "", "host", "[::1]:80", "a:99999"),
    fc.string({ maxLength: 40 }),
  ),
  agentVersion: fc.string({ maxLength: 80 }),
  heldVersions: fc.dictionary(fc.oneof(id, fc.constant("hello")), count64, { maxKeys: 4 }),
  heldReleases: releases,
  rejectedReleases: releases,
});
const scriptMetrics = fc.record({
  script: fc.oneof(fc.constant("hello"), id),
  version: count64,
  requests: count64,
  errors: count64,
  cpuMsTotal: num,
  latencyMsTotal: num,
  latencyBuckets: fc.array(count64, { maxLength: 25 }),
  statusClasses: fc.dictionary(fc.constantFrom("2xx", "5xx", "9xx", "\u0000"), count64, { maxKeys: 3 }),
  errorsByCode: fc.dictionary(fc.string({ maxLength: 10 }), count64, { maxKeys: 3 }),
  cpuBuckets: fc.array(count64, { maxLength: 20 }),
  isolateStarts: count64,
  isolateStartMsTotal: num,
  memorySamples: count64,
  memoryBytesTotal: num,
  kvOps: fc.constant({}),
});
const message: fc.Arbitrary<NonNullable<NodeMessage["msg"]>> = fc.oneof(
  hello.map((value) => ({ $case: "hello" as const, value })),
  fc
    .record({
      sentAtMs: fc.integer(),
      inFlight: fc.nat(),
      failingChecks: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
      retrying: fc.array(
        fc.record({ name: fc.string({ maxLength: 20 }), reason: fc.string({ maxLength: 40 }) }),
        {
          maxLength: 3,
        },
      ),
      failed: fc.array(fc.record({ name: id, version: count64, errorDetail: fc.string({ maxLength: 50 }) }), {
        maxLength: 3,
      }),
    })
    .map((value) => ({ $case: "heartbeat" as const, value })),
  fc
    .record({
      nonce: fc.string({ maxLength: 20 }),
      configVersion: count64,
      errors: fc.array(fc.record({ name: id, version: count64, errorDetail: fc.string({ maxLength: 50 }) }), {
        maxLength: 3,
      }),
    })
    .map((value) => ({ $case: "ack" as const, value })),
  fc
    .record({
      windowStartMs: fc.integer(),
      windowEndMs: fc.oneof(fc.integer(), fc.constant(Date.now())),
      latencyBoundsMs: fc.array(num, { maxLength: 30 }),
      cpuBoundsMs: fc.array(num, { maxLength: 30 }),
      scripts: fc.array(scriptMetrics, { maxLength: 20 }),
      reporterId: fc.string({ maxLength: 10 }),
      sequence: count64,
      node: fc.option(
        fc.record({
          inFlight: fc.nat(),
          isolatesCreated: count64,
          eventLoopLagP99Ms: num,
          eventLoopLagMaxMs: num,
          cpuLoad: num,
          rssBytes: count64,
          heapUsedBytes: count64,
        }),
        { nil: undefined },
      ),
    })
    .map((value) => ({ $case: "metrics" as const, value })),
);
/** A run: a plausible hello (or not) first, then random messages; or raw bytes that may not even parse. */
const run = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.boolean(), fc.array(message, { minLength: 1, maxLength: 6 }))
      .map(([v, m]) => ({ kind: "messages" as const, validHello: v, messages: m })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 })
      .map((frames) => ({ kind: "raw" as const, frames })),
  },
);

type Stream = ClientDuplexStream<unknown, unknown>;

/** Resolves when the stream ended (any status) or after `ms`. */
function settle(stream: Stream, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("open"), ms);
    stream.on("status", (status: { code: number }) => {
      clearTimeout(timer);
      resolve(`status-${status.code}`);
    });
  });
}

/**
 * The control plane's gRPC face on a real socket, sent random and mutated
 * Hello / Heartbeat / Ack / MetricsReport messages and raw frames that may
 * not decode. Afterwards a well-behaved node must still connect and receive
 * its push, and what the hub lists must be sound (ids and coordinates valid).
 */
export async function fuzzGrpc(seconds: number): Promise<FuzzFigures> {
  const logger = pino({ level: "silent" });
  const store = await openStore("memory");
  const source = 'export default { fetch() { return new Response("hi"); } };';
  await store.putVersion("hello", {
    sha256: createHash("sha256").update(source).digest("hex"),
    source,
    vars: {},
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
  });
  const metricsStore = createSqliteMetricsStore(":memory:");
  let live: () => ReadonlySet<string> | null = () => null;
  const metrics = createMetricsAggregator({
    store: metricsStore,
    logger,
    flushMs: 500,
    retentionMs: 3_600_000,
    liveScripts: () => live(),
  });
  metrics.start();
  const tail = new TailHub({ logger, bufferSize: 100, maxSessions: 10, logsTimeoutMs: 500 });
  const server = createGrpcServer({
    config: { grpcAddress: "127.0.0.1:0", nodeTimeoutMs: 15_000, controlPlaneId: "cp-fuzz", pushBatchMs: 0 },
    store,
    logger,
    telemetry: telemetryHooks(metrics, tail),
  });
  live = () => server.hub.liveScripts();
  const { port } = await server.listen();
  const address = `127.0.0.1:${port}`;
  const client = new ControlPlaneServiceClient(address, credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
  const Raw = makeGenericClientConstructor(
    {
      connect: {
        path: "/edge.v1.ControlPlaneService/Connect",
        requestStream: true,
        responseStream: true,
        requestSerialize: (value: Buffer) => value,
        requestDeserialize: (value: Buffer) => value,
        responseSerialize: (value: Buffer) => value,
        responseDeserialize: (value: Buffer) => value,
      },
    },
    "Raw",
  );
  const raw = new Raw(address, credentials.createInsecure()) as unknown as {
    connect(): Stream;
    close(): void;
  };

  const figures: FuzzFigures = {
    target: "grpc",
    runs: 0,
    cases: 0,
    durationMs: 0,
    rssBeforeBytes: await rssOf(),
    heapBeforeBytes: await heapAfterGc(),
    heapAfterBytes: null,
    rssAfterBytes: 0,
    outcomes: {},
    failures: [],
  };
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(run, async (r) => {
        figures.runs += 1;
        const stream = (r.kind === "raw" ? raw.connect() : client.connect()) as Stream;
        stream.on("error", () => {});
        stream.on("data", () => {});
        if (r.kind === "raw") {
          for (const frame of r.frames) stream.write(Buffer.from(frame));
          figures.cases += r.frames.length;
        } else {
          if (r.validHello) {
            stream.write({
              msg: {
                $case: "hello",
                value: {
                  nodeId: "fuzz-1",
                  pop: "fra",
                  lat: 1,
                  lon: 2,
                  httpAddress: "127.0.0.1:1",
                  agentVersion: "fuzz",
                  heldVersions: {},
                  heldReleases: {},
                  rejectedReleases: {},
                },
              },
            });
          }
          for (const msg of r.messages) {
            try {
              stream.write({ msg });
            } catch {
              // The client could not encode it (a number protobuf cannot carry): not sent.
              count(figures.outcomes, "unencodable");
            }
          }
          figures.cases += r.messages.length + (r.validHello ? 1 : 0);
        }
        count(figures.outcomes, await settle(stream, 20));
        stream.cancel();
      }),
      { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, endOnFailure: true },
    );

    // The control plane must still serve a well-behaved node...
    const good = client.connect() as ClientDuplexStream<NodeMessage, ControlMessage>;
    const pushed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      good.on("data", (m: ControlMessage) => {
        if (m.msg?.$case === "push") {
          clearTimeout(timer);
          resolve(m.msg.value.upserts.some((s) => s.name === "hello"));
        }
      });
      good.on("error", () => resolve(false));
    });
    good.write({
      msg: {
        $case: "hello",
        value: {
          nodeId: "good-1",
          pop: "fra",
          lat: 50,
          lon: 8,
          httpAddress: "127.0.0.1:8101",
          agentVersion: "fuzz",
          heldVersions: {},
          heldReleases: {},
          rejectedReleases: {},
        },
      },
    });
    if (!(await pushed)) figures.failures.push("a well-behaved node got no push after the fuzz run");
    good.cancel();
    // ...and list only sound nodes.
    for (const node of server.hub.nodes()) {
      const sound =
        /^[a-z0-9-]{1,63}$/.test(node.id) &&
        /^[a-z0-9-]{1,63}$/.test(node.pop) &&
        Number.isFinite(node.lat) &&
        Math.abs(node.lat) <= 90 &&
        Number.isFinite(node.lon) &&
        Math.abs(node.lon) <= 180;
      if (!sound) figures.failures.push(`unsound node listed: ${JSON.stringify(node).slice(0, 200)}`);
    }
    for (const entry of metrics.lifetime()) {
      if (
        entry.script !== "hello" ||
        !Number.isFinite(entry.requests) ||
        entry.requests > 1e7 * figures.runs
      ) {
        figures.failures.push(`implausible metrics kept: ${entry.script} ${entry.requests}`);
        break;
      }
    }
  } catch (error) {
    figures.failures.push((error as Error).message.slice(0, 2000));
  } finally {
    figures.durationMs = Date.now() - started;
    figures.rssAfterBytes = await rssOf();
    figures.heapAfterBytes = await heapAfterGc();
    client.close();
    raw.close();
    await server.close();
    await metrics.close();
    await metricsStore.close();
    tail.shutdown();
    await store.close();
  }
  return figures;
}
