// Simulated edge agents for the propagation benchmark: `count` lightweight
// agents in this process, each with its own gRPC channel and stream, speaking
// the real edge.v1 protocol (hello, ACK every push at once, heartbeats), with
// no isolates behind them. Reports to the parent over IPC:
//   { type: "ready" }                        every agent got its first push
//   { type: "acked", version, lastAckNs }    every agent ACKed the push carrying that version
import { ControlPlaneServiceClient, GRPC_CHANNEL_OPTIONS } from "@edge/protocol";
import { credentials } from "@grpc/grpc-js";

const [address, countText, workerId, script] = process.argv.slice(2);
const count = Number(countText);
const POPS = ["fra", "iad", "sin", "ams", "gru"];

const clients = [];
const streams = [];
let ready = 0;
/** version -> agents that ACKed a push carrying it */
const acks = new Map();
let heartbeatMs = 5_000;

for (let i = 0; i < count; i++) {
  // A channel of its own per agent, as separate nodes would have (no shared subchannel).
  const client = new ControlPlaneServiceClient(address, credentials.createInsecure(), {
    ...GRPC_CHANNEL_OPTIONS,
    "grpc.use_local_subchannel_pool": 1,
  });
  clients.push(client);
  const stream = client.connect();
  streams.push(stream);
  let first = true;
  stream.on("data", (message) => {
    const msg = message.msg;
    if (msg?.$case === "welcome") {
      heartbeatMs = msg.value.heartbeatIntervalMs || heartbeatMs;
      return;
    }
    if (msg?.$case !== "push") return;
    const push = msg.value;
    stream.write({
      msg: { $case: "ack", value: { nonce: push.nonce, configVersion: push.configVersion, errors: [] } },
    });
    const at = process.hrtime.bigint();
    if (first) {
      first = false;
      ready += 1;
      if (ready === count) process.send({ type: "ready" });
    }
    for (const upsert of push.upserts) {
      if (upsert.name !== script) continue;
      const entry = acks.get(upsert.version) ?? { agents: 0, lastAckNs: 0n };
      entry.agents += 1;
      if (at > entry.lastAckNs) entry.lastAckNs = at;
      acks.set(upsert.version, entry);
      if (entry.agents === count) {
        process.send({ type: "acked", version: upsert.version, lastAckNs: entry.lastAckNs.toString() });
        acks.delete(upsert.version);
      }
    }
  });
  stream.on("error", () => {});
  stream.write({
    msg: {
      $case: "hello",
      value: {
        nodeId: `sim-${workerId}-${i}`,
        pop: POPS[i % POPS.length],
        lat: 0,
        lon: 0,
        httpAddress: "127.0.0.1:1",
        agentVersion: "bench",
        heldVersions: {},
        heldReleases: {},
        rejectedReleases: {},
      },
    },
  });
}

const heartbeats = setInterval(() => {
  const value = { sentAtMs: Date.now(), inFlight: 0, failingChecks: [] };
  for (const stream of streams) stream.write({ msg: { $case: "heartbeat", value } });
}, heartbeatMs);

process.on("message", (message) => {
  if (message?.type !== "stop") return;
  clearInterval(heartbeats);
  for (const stream of streams) {
    stream.end();
    stream.cancel();
  }
  for (const client of clients) client.close();
  setTimeout(() => process.exit(0), 50);
});
