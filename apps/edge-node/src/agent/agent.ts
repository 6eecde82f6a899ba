import type { ConfigPush, ControlMessage, NodeMessage, ResourceError } from "@edge/protocol";
import { type StatusObject, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { EdgeNodeConfig } from "../config.js";
import type { ScheduledRuns } from "../cron/scheduled-runs.js";
import type { KvNode } from "../kv/kv-node.js";
import type { MetricsShipper } from "../metrics/shipper.js";
import type { ScriptRegistry } from "../script-registry.js";
import type { EdgeTail } from "../tail/edge-tail.js";
import { Backoff } from "./backoff.js";
import { ControlPlaneConnector, type ControlStream } from "./connector.js";

export interface AgentDeps {
  config: EdgeNodeConfig;
  registry: ScriptRegistry;
  metrics: MetricsShipper;
  tail: EdgeTail;
  logger: Logger;
  /** host:port the node's HTTP front is reachable at (known once it listens). */
  httpAddress: () => string;
  inFlight: () => number;
  /** Names of the node's own health checks failing now (sent with every heartbeat). */
  failingChecks?: () => string[];
  /** Workers KV: subscribes on each stream, applies syncs, carries scripts' writes. */
  kv?: KvNode;
  /** Script name -> why its version is being prepared again (sent with every heartbeat). */
  retrying?: () => Record<string, string>;
  /** Versions ACKed unprepared whose preparation then failed of their own accord (a NACK after the ACK). */
  failedAfterAck?: () => ResourceError[];
  /** Cron Triggers: runs the ticks a control plane hands this node. */
  scheduled?: ScheduledRuns;
}

const AGENT_VERSION = "0.1.0";
const DEFAULT_HEARTBEAT_MS = 5_000;

type Stream = ControlStream;

/** After a stream that had been serving ends, the next address is tried this soon (jittered). */
const FAILOVER_DELAY_MS = 250;

/** Statuses by which a control plane refuses this node (bad token, revoked enrolment, invalid hello). */
const REFUSED: ReadonlySet<number> = new Set([
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.INVALID_ARGUMENT,
]);

/**
 * Keeps one bidirectional stream open to the control plane: says hello with
 * the releases it holds (and those it refuses), applies every push (in order)
 * and ACKs it, sends heartbeats and metrics, and reconnects when the stream
 * drops: at once to the next replica if the stream had been serving, else
 * with jittered exponential backoff (1 s x1.6 +-20 %, capped), moving through
 * the replicas of `EDGE_CONTROL_PLANE` in turn.
 */
export class Agent {
  readonly #deps: AgentDeps;
  readonly #log: Logger;
  readonly #connector: ControlPlaneConnector;
  readonly #backoff: Backoff;
  #stream: Stream | null = null;
  #connected = false;
  /** The current stream delivered a push: the replica behind it works. */
  #synced = false;
  #stopped = false;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #metricsTimer: NodeJS.Timeout | null = null;
  /** Pushes are applied strictly one after another, in arrival order. */
  #applying: Promise<void> = Promise.resolve();

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: "agent" });
    this.#connector = new ControlPlaneConnector(deps.config);
    this.#backoff = new Backoff(1_000, deps.config.reconnectMaxMs);
  }

  /** True between the control plane's welcome and the end of that stream. */
  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    this.#metricsTimer = setInterval(() => this.#flushMetrics(), this.#deps.config.metricsIntervalMs);
    this.#metricsTimer.unref();
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
    this.#flushMetrics();
    this.#teardown();
    await this.#applying;
    this.#connector.close();
  }

  #connect(): void {
    if (this.#stopped) return;
    const { config, registry } = this.#deps;
    const stream = this.#connector.open();
    this.#stream = stream;
    this.#synced = false;
    stream.on("data", (message: ControlMessage) => this.#onMessage(stream, message));
    stream.on("error", (err: Error) => {
      if (!this.#stopped) this.#log.warn({ err: err.message }, "stream failed");
    });
    // grpc-js emits "status" exactly once when the call is over, however it ended.
    stream.on("status", (end: StatusObject) => {
      const refused = REFUSED.has(end.code);
      // Retrying does not help until an operator acts: say what to check, then back off.
      if (refused && stream === this.#stream && !this.#stopped) {
        this.#log.error(
          { code: end.code, details: end.details, address: this.#connector.address },
          "the control plane refused this node: check its token (EDGE_NODE_TOKEN, issued for this EDGE_NODE_ID and EDGE_POP) and its hello (EDGE_LAT, EDGE_LON, EDGE_PUBLIC_HTTP_ADDRESS)",
        );
      }
      this.#onClosed(stream, refused);
    });
    this.#write({
      msg: {
        $case: "hello",
        value: {
          nodeId: config.nodeId,
          pop: config.pop,
          lat: config.lat,
          lon: config.lon,
          httpAddress: this.#deps.httpAddress(),
          agentVersion: AGENT_VERSION,
          heldVersions: registry.heldVersions(),
          heldReleases: registry.heldReleases(),
          rejectedReleases: registry.rejectedReleases(),
        },
      },
    });
  }

  #onMessage(stream: Stream, message: ControlMessage): void {
    if (stream !== this.#stream || !message.msg) return;
    switch (message.msg.$case) {
      case "welcome": {
        const welcome = message.msg.value;
        this.#connected = true;
        this.#log.info(
          { controlPlaneId: welcome.controlPlaneId, address: this.#connector.address },
          "connected to the control plane",
        );
        this.#startHeartbeat(welcome.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS);
        // Reports the previous stream may not have delivered; the control plane skips duplicates.
        for (const report of this.#deps.metrics.unacked())
          this.#write({ msg: { $case: "metrics", value: report } });
        this.#flushMetrics();
        this.#deps.tail.connected((batch) => this.#write({ msg: { $case: "tail", value: batch } }));
        this.#deps.kv?.attach((msg) => stream === this.#stream && this.#write({ msg }));
        break;
      }
      case "runScheduled": {
        const run = message.msg.value;
        // A report on a stream that has gone since is dropped: the control plane counts the run as lost.
        void this.#deps.scheduled?.run(run, (report) => {
          if (stream === this.#stream) this.#write({ msg: { $case: "scheduledReport", value: report } });
        });
        break;
      }
      case "kvSync":
        this.#deps.kv?.onSync(message.msg.value);
        break;
      case "kvWriteResult": {
        this.#deps.kv?.onWriteResult(message.msg.value);
        break;
      }
      case "metricsAck":
        this.#deps.metrics.ack(message.msg.value);
        break;
      case "tailSessions":
        this.#deps.tail.setSessions(message.msg.value);
        break;
      case "logsQuery":
        this.#write({ msg: { $case: "logsReply", value: this.#deps.tail.answer(message.msg.value) } });
        break;
      case "push": {
        const push = message.msg.value;
        if (!this.#synced) {
          this.#synced = true;
          this.#backoff.reset();
        }
        this.#applying = this.#applying.then(() => this.#apply(stream, push));
        break;
      }
    }
  }

  async #apply(stream: Stream, push: ConfigPush): Promise<void> {
    const errors = await this.#deps.registry.apply(push);
    if (stream !== this.#stream) return;
    this.#write({
      msg: { $case: "ack", value: { nonce: push.nonce, configVersion: push.configVersion, errors } },
    });
  }

  #startHeartbeat(intervalMs: number): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = setInterval(() => {
      this.#write({
        msg: {
          $case: "heartbeat",
          value: {
            sentAtMs: Date.now(),
            inFlight: this.#deps.inFlight(),
            failingChecks: this.#deps.failingChecks?.() ?? [],
            retrying: Object.entries(this.#deps.retrying?.() ?? {}).map(([name, reason]) => ({
              name,
              reason: reason.slice(0, 500),
            })),
            failed: this.#deps.failedAfterAck?.() ?? [],
          },
        },
      });
    }, intervalMs);
    this.#heartbeatTimer.unref();
  }

  #flushMetrics(): void {
    if (!this.#connected) return;
    // A report stays with the shipper until it is acknowledged, whatever happens to this write.
    const report = this.#deps.metrics.next();
    if (report) this.#write({ msg: { $case: "metrics", value: report } });
  }

  /** False when there is no open stream to write to. */
  #write(message: NodeMessage): boolean {
    const stream = this.#stream;
    if (!stream || stream.writableEnded || stream.destroyed) return false;
    stream.write(message);
    return true;
  }

  #onClosed(stream: Stream, refused = false): void {
    if (stream !== this.#stream) return;
    const wasServing = this.#synced && !refused;
    this.#teardown();
    if (this.#stopped) return;
    this.#connector.advance();
    // A replica that was serving went away: another one is likely fine, so try it now (jittered,
    // so a thousand nodes of a dead replica do not arrive at once); otherwise back off.
    const delay = wasServing ? Math.round(Math.random() * FAILOVER_DELAY_MS) : this.#backoff.next();
    this.#log.info({ delayMs: delay, address: this.#connector.address }, "reconnecting");
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    this.#reconnectTimer.unref();
  }

  #teardown(): void {
    this.#connected = false;
    this.#deps.tail.disconnected();
    this.#deps.kv?.detach();
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    const stream = this.#stream;
    this.#stream = null;
    if (stream && !stream.destroyed) {
      stream.end();
      stream.cancel();
    }
  }
}
