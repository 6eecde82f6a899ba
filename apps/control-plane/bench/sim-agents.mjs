// Simulated edge agents for the propagation benchmark: `count` lightweight
// agents in this process speaking the real edge.v1 protocol (hello, ACK every
// push at once, heartbeats spread over the interval), with no isolates behind
// them. Each agent has its own `Connect` stream and node id; agent g (global
// index) connects to replica g % replicas. By default each agent has its own
// gRPC channel (a socket of its own, as separate nodes would have);
// `agentsPerChannel` > 1 lets that many agents share one channel (their
// streams multiplexed on one HTTP/2 connection).
//
// Agents connect in batches: a batch must get every first push before the
// next one starts; the whole ramp-up must finish within `rampTimeoutMs`. A
// stream that ends is reported and reconnects after 1 s, as a real agent would.
// Reports to the parent over IPC:
//   { type: "progress", ready }              agents that got their first push so far
//   { type: "ready", rampMs }                every agent got its first push
//   { type: "ramp-failed", message }         the ramp-up timed out (the process then exits 1)
//   { type: "acked", version, lastAckNs }    every agent ACKed the push carrying that version
//   { type: "dropped", nodeId, reason }      an agent's stream ended (it reconnects)
import { ControlPlaneServiceClient, GRPC_CHANNEL_OPTIONS } from "@edge/protocol";
import { credentials } from "@grpc/grpc-js";

const options = JSON.parse(process.argv[2] ?? "{}");
/** @type {{ addresses: string[], count: number, firstIndex: number, workerId: string, script: string, agentsPerChannel: number, batchSize: number, rampTimeoutMs: number }} */
const { addresses, count, firstIndex, workerId, script, agentsPerChannel, batchSize, rampTimeoutMs } =
  options;
const POPS = ["fra", "iad", "sin", "ams", "gru"];
/** Heartbeats go out in this many slices per interval, so the fleet's beats are spread, not a burst. */
const HEARTBEAT_SLICES = 20;
/** Agents' keepalive ping timeout (a real agent's is GRPC_CHANNEL_OPTIONS', 5 s). */
const KEEPALIVE_TIMEOUT_MS = 30_000;

const clients = [];
let ready = 0;
/** version -> agents that ACKed a push carrying it */
const acks = new Map();
let heartbeatMs = 5_000;
let onFirstPush = () => {};
let heartbeats = null;

/** One channel per replica for the agents that share it; a fresh one every `agentsPerChannel` agents. */
const sharedChannels = new Map();
function clientFor(globalIndex) {
  const address = addresses[globalIndex % addresses.length];
  const make = () => {
    const client = new ControlPlaneServiceClient(address, credentials.createInsecure(), {
      ...GRPC_CHANNEL_OPTIONS,
      // Pings as a real agent's (every 10 s), but a late answer is this process's event loop,
      // shared by thousands of agents on a loaded machine, not a dead link: wait longer for it.
      "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
      // A channel of its own (no subchannel shared with other clients in this process).
      "grpc.use_local_subchannel_pool": 1,
    });
    clients.push(client);
    return client;
  };
  if (agentsPerChannel <= 1) return make();
  const entry = sharedChannels.get(address);
  if (entry !== undefined && entry.agents < agentsPerChannel) {
    entry.agents += 1;
    return entry.client;
  }
  const client = make();
  sharedChannels.set(address, { client, agents: 1 });
  return client;
}

/** Agents' streams; each entry is replaced when its agent reconnects. */
const agents = [];
let stopping = false;
/** Streams that ended while the bench ran (the agent reconnects after RECONNECT_MS). */
let dropped = 0;
const RECONNECT_MS = 1_000;

function startAgent(i) {
  const globalIndex = firstIndex + i;
  const agent = { nodeId: `sim-${workerId}-${globalIndex}`, stream: null, held: 0, first: true };
  agents.push(agent);
  connectAgent(agent, clientFor(globalIndex), globalIndex);
}

function connectAgent(agent, client, globalIndex) {
  const stream = client.connect();
  agent.stream = stream;
  stream.on("data", (message) => {
    const msg = message.msg;
    if (msg?.$case === "welcome") {
      heartbeatMs = msg.value.heartbeatIntervalMs || heartbeatMs;
      // Heartbeats start with the first welcome, at the interval it names.
      if (heartbeats === null) startHeartbeats();
      return;
    }
    if (msg?.$case !== "push") return;
    const push = msg.value;
    stream.write({
      msg: { $case: "ack", value: { nonce: push.nonce, configVersion: push.configVersion, errors: [] } },
    });
    const at = process.hrtime.bigint();
    if (agent.first) {
      agent.first = false;
      ready += 1;
      onFirstPush();
    }
    for (const upsert of push.upserts) {
      // Counted once per agent and version, even if a reconnect brings it again.
      if (upsert.name !== script || upsert.version <= agent.held) continue;
      agent.held = upsert.version;
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
  let ended = false;
  const onEnd = (reason) => {
    if (ended || stopping) return;
    ended = true;
    dropped += 1;
    process.send({ type: "dropped", nodeId: agent.nodeId, reason, dropped });
    // As a real agent would: reconnect, saying what it holds.
    setTimeout(() => {
      if (!stopping) connectAgent(agent, client, globalIndex);
    }, RECONNECT_MS);
  };
  stream.on("error", (error) => onEnd(error.details || error.message));
  stream.on("end", () => onEnd("the control plane ended the stream"));
  stream.write({
    msg: {
      $case: "hello",
      value: {
        nodeId: agent.nodeId,
        pop: POPS[globalIndex % POPS.length],
        lat: 0,
        lon: 0,
        httpAddress: "127.0.0.1:1",
        agentVersion: "bench",
        heldVersions: agent.held > 0 ? { [script]: agent.held } : {},
        heldReleases: {},
        rejectedReleases: {},
      },
    },
  });
}

async function rampUp() {
  const started = Date.now();
  const deadline = started + rampTimeoutMs;
  for (let next = 0; next < count; ) {
    const end = Math.min(count, next + batchSize);
    for (; next < end; next++) startAgent(next);
    const target = end;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `agent worker ${workerId}: only ${ready} of ${count} agents got their first push within ` +
                `${rampTimeoutMs} ms (batch up to ${target}; BENCH_RAMP_TIMEOUT_MS raises the limit)`,
            ),
          ),
        Math.max(0, deadline - Date.now()),
      );
      onFirstPush = () => {
        if (ready < target) return;
        clearTimeout(timer);
        resolve();
      };
      onFirstPush();
    });
    process.send({ type: "progress", ready });
  }
  return Date.now() - started;
}

function startHeartbeats() {
  let slice = 0;
  heartbeats = setInterval(
    () => {
      const value = { sentAtMs: Date.now(), inFlight: 0, failingChecks: [], retrying: [], failed: [] };
      for (let i = slice; i < agents.length; i += HEARTBEAT_SLICES) {
        agents[i].stream.write({ msg: { $case: "heartbeat", value } });
      }
      slice = (slice + 1) % HEARTBEAT_SLICES;
    },
    Math.max(1, Math.floor(heartbeatMs / HEARTBEAT_SLICES)),
  );
}

process.on("message", (message) => {
  if (message?.type !== "stop") return;
  stopping = true;
  if (heartbeats !== null) clearInterval(heartbeats);
  for (const { stream } of agents) {
    stream.end();
    stream.cancel();
  }
  for (const client of clients) client.close();
  setTimeout(() => process.exit(0), 50);
});

rampUp().then(
  (rampMs) => process.send({ type: "ready", rampMs }),
  (error) => {
    process.send({ type: "ramp-failed", message: error.message }, () => process.exit(1));
  },
);
