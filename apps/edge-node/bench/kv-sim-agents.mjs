// Simulated edge agents for `npm run bench:kv`: `count` lightweight agents in
// this process, each with its own gRPC channel and stream, speaking edge.v1
// (hello, ACK every push, KvSubscribe as a PoP already holding the
// namespace) with no isolates or replica behind them. Reports to the parent over IPC:
//   { type: "ready" }                   every agent holds the namespaces as of its subscribe
//   { type: "seen", key, lastNs }       every agent received a KV sync carrying that key
import { ControlPlaneServiceClient, GRPC_CHANNEL_OPTIONS } from "@edge/protocol";
import { credentials } from "@grpc/grpc-js";

const [address, countText, workerId, namespaceId, heldVersion] = process.argv.slice(2);
const count = Number(countText);
const streams = [];
const clients = [];
/** key -> agents that received it, and when the last one did */
const seen = new Map();
let ready = 0;

for (let i = 0; i < count; i++) {
  const client = new ControlPlaneServiceClient(address, credentials.createInsecure(), {
    ...GRPC_CHANNEL_OPTIONS,
    "grpc.use_local_subchannel_pool": 1,
  });
  clients.push(client);
  const stream = client.connect();
  streams.push(stream);
  let subscribed = false;
  stream.on("error", () => {});
  stream.on("data", (message) => {
    const msg = message.msg;
    if (msg?.$case === "welcome" && !subscribed) {
      subscribed = true;
      // As a warm PoP would: it holds the namespace up to `heldVersion` already.
      stream.write({
        msg: { $case: "kvSubscribe", value: { versions: { [namespaceId]: Number(heldVersion) } } },
      });
      setTimeout(() => {
        if (++ready === count) process.send({ type: "ready" });
      }, 1_000);
      return;
    }
    if (msg?.$case === "push") {
      const push = msg.value;
      stream.write({
        msg: { $case: "ack", value: { nonce: push.nonce, configVersion: push.configVersion, errors: [] } },
      });
      return;
    }
    if (msg?.$case !== "kvSync") return;
    const at = process.hrtime.bigint();
    for (const ns of msg.value.namespaces) {
      for (const entry of ns.entries) {
        if (!entry.key.startsWith("sim-")) continue;
        const got = seen.get(entry.key) ?? { agents: 0, lastNs: 0n };
        got.agents += 1;
        if (at > got.lastNs) got.lastNs = at;
        seen.set(entry.key, got);
        if (got.agents === count) {
          process.send({ type: "seen", key: entry.key, lastNs: got.lastNs.toString() });
          seen.delete(entry.key);
        }
      }
    }
  });
  stream.write({
    msg: {
      $case: "hello",
      value: {
        nodeId: `kv-sim-${workerId}-${i}`,
        pop: "sim",
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

process.on("message", (message) => {
  if (message?.type !== "stop") return;
  for (const stream of streams) stream.cancel();
  for (const client of clients) client.close();
  process.exit(0);
});
