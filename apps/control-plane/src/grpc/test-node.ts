/**
 * Test helpers for the gRPC side: a real `ControlPlaneServiceClient` playing an
 * edge node, and a control plane on 127.0.0.1 port 0 over an in-memory SQLite
 * store. Used by the tests only.
 */
import { createHash } from "node:crypto";
import {
  type ConfigPush,
  type ControlMessage,
  ControlPlaneServiceClient,
  GRPC_CHANNEL_OPTIONS,
  type Hello,
  type NodeMessage,
  type ResourceError,
  type Welcome,
} from "@edge/protocol";
import {
  type ChannelCredentials,
  type ClientDuplexStream,
  credentials,
  Metadata,
  type StatusObject,
} from "@grpc/grpc-js";
import { pino } from "pino";
import type { NodeTelemetryHooks } from "../push/telemetry-hooks.js";
import { createSqliteStore } from "../store/sqlite.js";
import type { ScriptVersion, Store } from "../store/types.js";
import { NODE_TOKEN_METADATA } from "./node-auth.js";
import { createGrpcServer, type GrpcControlServer, type GrpcServerConfig } from "./server.js";

const WAIT_TIMEOUT_MS = 5_000;

export class TestNode {
  readonly messages: ControlMessage[] = [];
  /** The call's final status, once the control plane (or the node) ended it. */
  readonly ended: Promise<StatusObject>;
  private readonly client: ControlPlaneServiceClient;
  private readonly call: ClientDuplexStream<NodeMessage, ControlMessage>;
  private readonly waiters = new Set<() => void>();
  private status: StatusObject | null = null;

  constructor(
    port: number,
    options: {
      token?: string;
      credentials?: ChannelCredentials;
      channelOptions?: Record<string, unknown>;
    } = {},
  ) {
    this.client = new ControlPlaneServiceClient(
      `127.0.0.1:${port}`,
      options.credentials ?? credentials.createInsecure(),
      { ...GRPC_CHANNEL_OPTIONS, ...options.channelOptions },
    );
    const metadata = new Metadata();
    if (options.token !== undefined) metadata.set(NODE_TOKEN_METADATA, `Bearer ${options.token}`);
    this.call = this.client.connect(metadata);
    this.call.on("data", (message: ControlMessage) => {
      this.messages.push(message);
      this.wake();
    });
    // A non-OK status also arrives as 'error'; 'status' carries it either way.
    this.call.on("error", () => {});
    this.ended = new Promise((resolve) => {
      this.call.on("status", (status: StatusObject) => {
        this.status = status;
        resolve(status);
        this.wake();
      });
    });
  }

  get welcome(): Welcome | undefined {
    for (const message of this.messages) if (message.msg?.$case === "welcome") return message.msg.value;
    return undefined;
  }

  get pushes(): ConfigPush[] {
    return this.messages.flatMap((message) => (message.msg?.$case === "push" ? [message.msg.value] : []));
  }

  get isEnded(): boolean {
    return this.status !== null;
  }

  send(msg: NonNullable<NodeMessage["msg"]>): void {
    this.call.write({ msg });
  }

  hello(nodeId: string, fields: Partial<Omit<Hello, "nodeId">> = {}): void {
    this.send({
      $case: "hello",
      value: {
        nodeId,
        pop: "test",
        lat: 0,
        lon: 0,
        httpAddress: "127.0.0.1:1",
        agentVersion: "test",
        heldVersions: {},
        heldReleases: {},
        rejectedReleases: {},
        ...fields,
      },
    });
  }

  ack(push: ConfigPush, errors: ResourceError[] = []): void {
    this.send({ $case: "ack", value: { nonce: push.nonce, configVersion: push.configVersion, errors } });
  }

  heartbeat(
    inFlight: number,
    failingChecks: string[] = [],
    retrying: Array<{ name: string; reason: string }> = [],
    failed: ResourceError[] = [],
  ): void {
    this.send({
      $case: "heartbeat",
      value: { sentAtMs: Date.now(), inFlight, failingChecks, retrying, failed },
    });
  }

  /** Resolves with the push numbered `n` (1-based) once it has arrived. */
  async push(n: number): Promise<ConfigPush> {
    await this.until(() => this.pushes.length >= n, `push #${n}`);
    return this.pushes[n - 1]!;
  }

  /** Resolves once `predicate` holds, re-checked whenever a message or the final status arrives. */
  until(predicate: () => boolean, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate()) {
          cleanup();
          resolve();
        } else if (this.status !== null) {
          cleanup();
          reject(new Error(`stream ended (${this.status.code} ${this.status.details}) before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.messages)}`));
      }, WAIT_TIMEOUT_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Stops reading (as a node stuck in a long compile would): HTTP/2 flow control then pushes back. */
  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  /** The node's side closes its half of the stream, as an agent shutting down does. */
  halfClose(): void {
    this.call.end();
  }

  close(): void {
    if (this.status === null) this.call.cancel();
    this.client.close();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Polls server-side state (which sends no message when it changes) until `predicate` holds. */
export async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface TestControlPlane {
  server: GrpcControlServer;
  store: Store;
  port: number;
  /** A node connected to this control plane; closed by `close()`. */
  node(options?: ConstructorParameters<typeof TestNode>[1]): TestNode;
  deploy(name: string, source?: string, vars?: Record<string, string>): Promise<ScriptVersion>;
  close(): Promise<void>;
}

export interface TestControlPlaneOptions extends Partial<GrpcServerConfig> {
  /** Default: a fresh in-memory SQLite store, closed by `close()`; a given one is left open. */
  store?: Store;
  telemetry?: NodeTelemetryHooks;
}

export async function startTestControlPlane(
  options: TestControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const { store: given, telemetry, ...config } = options;
  const store = given ?? createSqliteStore(":memory:");
  const server = createGrpcServer({
    config: { grpcAddress: "127.0.0.1:0", nodeTimeoutMs: 15_000, controlPlaneId: "cp-test", ...config },
    store,
    logger: pino({ level: "silent" }),
    ...(telemetry ? { telemetry } : {}),
  });
  const { port } = await server.listen();
  const nodes: TestNode[] = [];
  let deploys = 0;
  return {
    server,
    store,
    port,
    node(nodeOptions) {
      const node = new TestNode(port, nodeOptions);
      nodes.push(node);
      return node;
    },
    deploy(
      name,
      source = `export default { fetch() { return new Response("${name} ${++deploys}"); } };`,
      vars = {},
    ) {
      const sha256 = createHash("sha256").update(source).digest("hex");
      return store.putVersion(name, {
        sha256,
        source,
        vars,
        limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
      });
    },
    async close() {
      for (const node of nodes) node.close();
      await server.close();
      if (given === undefined) await store.close();
    },
  };
}
