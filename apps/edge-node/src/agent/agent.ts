import {
  type ConfigPush,
  type ControlMessage,
  ControlPlaneServiceClient,
  GRPC_CHANNEL_OPTIONS,
  type NodeMessage,
} from "@edge/protocol";
import { type ClientDuplexStream, credentials } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { EdgeNodeConfig } from "../config.js";
import type { MetricsCollector } from "../metrics/collector.js";
import type { ScriptRegistry } from "../script-registry.js";
import { Backoff } from "./backoff.js";

export interface AgentDeps {
  config: EdgeNodeConfig;
  registry: ScriptRegistry;
  metrics: MetricsCollector;
  logger: Logger;
  /** host:port the node's HTTP front is reachable at (known once it listens). */
  httpAddress: () => string;
  inFlight: () => number;
}

const AGENT_VERSION = "0.1.0";
const DEFAULT_HEARTBEAT_MS = 5_000;

type Stream = ClientDuplexStream<NodeMessage, ControlMessage>;

/**
 * Keeps one bidirectional stream open to the control plane: says hello with
 * the versions it holds, applies every push (in order) and ACKs it, sends
 * heartbeats and metrics, and reconnects with backoff when the stream drops.
 */
export class Agent {
  readonly #deps: AgentDeps;
  readonly #log: Logger;
  readonly #client: ControlPlaneServiceClient;
  readonly #backoff = new Backoff();
  #stream: Stream | null = null;
  #connected = false;
  #stopped = false;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #metricsTimer: NodeJS.Timeout | null = null;
  /** Pushes are applied strictly one after another, in arrival order. */
  #applying: Promise<void> = Promise.resolve();

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: "agent", controlPlane: deps.config.controlPlaneAddress });
    this.#client = new ControlPlaneServiceClient(
      deps.config.controlPlaneAddress,
      credentials.createInsecure(),
      GRPC_CHANNEL_OPTIONS,
    );
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
    this.#client.close();
  }

  #connect(): void {
    if (this.#stopped) return;
    const { config, registry } = this.#deps;
    const stream = this.#client.connect();
    this.#stream = stream;
    stream.on("data", (message: ControlMessage) => this.#onMessage(stream, message));
    stream.on("error", (err: Error) => {
      if (!this.#stopped) this.#log.warn({ err: err.message }, "stream failed");
    });
    // grpc-js emits "status" exactly once when the call is over, however it ended.
    stream.on("status", () => this.#onClosed(stream));
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
        this.#backoff.reset();
        this.#log.info({ controlPlaneId: welcome.controlPlaneId }, "connected to the control plane");
        this.#startHeartbeat(welcome.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS);
        this.#flushMetrics();
        break;
      }
      case "push": {
        const push = message.msg.value;
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
        msg: { $case: "heartbeat", value: { sentAtMs: Date.now(), inFlight: this.#deps.inFlight() } },
      });
    }, intervalMs);
    this.#heartbeatTimer.unref();
  }

  #flushMetrics(): void {
    if (!this.#connected) return;
    const report = this.#deps.metrics.drain();
    if (!report) return;
    if (!this.#write({ msg: { $case: "metrics", value: report } })) this.#deps.metrics.restore(report);
  }

  /** False when there is no open stream to write to. */
  #write(message: NodeMessage): boolean {
    const stream = this.#stream;
    if (!stream || stream.writableEnded || stream.destroyed) return false;
    stream.write(message);
    return true;
  }

  #onClosed(stream: Stream): void {
    if (stream !== this.#stream) return;
    this.#teardown();
    if (this.#stopped) return;
    const delay = this.#backoff.next();
    this.#log.info({ delayMs: delay }, "reconnecting");
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    this.#reconnectTimer.unref();
  }

  #teardown(): void {
    this.#connected = false;
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
