import {
  type ConfigPush,
  type ControlMessage,
  ControlPlaneServiceService,
  GRPC_CHANNEL_OPTIONS,
  type NodeMessage,
  type Script,
  versionDigest,
} from "@edge/protocol";
import { Server, ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";

type Session = ServerDuplexStream<NodeMessage, ControlMessage>;

/**
 * A real gRPC server speaking edge.v1 whose pushes the test decides, so the
 * agent and HTTP front can be driven precisely. It records every message the
 * node sends.
 */
export class ScriptedControlPlane {
  readonly received: NodeMessage[] = [];
  readonly #server = new Server(GRPC_CHANNEL_OPTIONS);
  #session: Session | null = null;
  #waiters: Array<() => void> = [];
  #nonce = 0;
  port = 0;

  constructor() {
    this.#server.addService(ControlPlaneServiceService, {
      connect: (call: Session) => {
        this.#session = call;
        call.on("data", (message: NodeMessage) => {
          this.received.push(message);
          if (message.msg?.$case === "hello") {
            call.write({
              msg: { $case: "welcome", value: { controlPlaneId: "scripted", heartbeatIntervalMs: 200 } },
            });
          }
          this.#notify();
        });
        call.on("error", () => {});
        call.on("end", () => call.end());
      },
    });
  }

  async listen(port = 0): Promise<number> {
    this.port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
    return this.port;
  }

  /** Sends a push and resolves with the node's ACK for it. */
  async push(
    push: Omit<ConfigPush, "nonce">,
  ): Promise<Extract<NodeMessage["msg"], { $case: "ack" }>["value"]> {
    const nonce = `n${++this.#nonce}`;
    const session = this.#session;
    if (!session) throw new Error("no node connected");
    session.write({ msg: { $case: "push", value: { ...push, nonce } } });
    const ack = await this.waitFor((m) => m.msg?.$case === "ack" && m.msg.value.nonce === nonce);
    if (ack.msg?.$case !== "ack") throw new Error("unreachable");
    return ack.msg.value;
  }

  /** Sends any control message to the connected node. */
  send(msg: NonNullable<ControlMessage["msg"]>): void {
    if (!this.#session) throw new Error("no node connected");
    this.#session.write({ msg });
  }

  /** Resolves with the first message (already received or to come) matching `predicate`. */
  waitFor(predicate: (message: NodeMessage) => boolean, timeoutMs = 10_000): Promise<NodeMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a node message")), timeoutMs);
      const check = () => {
        const found = this.received.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      if (!check()) this.#waiters.push(() => void check());
    });
  }

  async close(): Promise<void> {
    this.#session?.end();
    this.#server.forceShutdown();
  }

  #notify(): void {
    for (const waiter of this.#waiters) waiter();
  }
}

export function script(
  name: string,
  version: number,
  source: string,
  vars: Record<string, string> = {},
): Script {
  return {
    name,
    version,
    sha256: versionDigest(source),
    source,
    vars,
    limits: { cpuMs: 50, memoryMb: 64, wallMs: 5_000 },
    createdAtMs: Date.now(),
    canary: undefined,
    mainModule: "",
    modules: [],
    kvBindings: {},
  };
}
