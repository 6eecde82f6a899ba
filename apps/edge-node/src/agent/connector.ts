import {
  type ControlMessage,
  ControlPlaneServiceClient,
  GRPC_CHANNEL_OPTIONS,
  type NodeMessage,
} from "@edge/protocol";
import { type ChannelCredentials, type ClientDuplexStream, credentials, Metadata } from "@grpc/grpc-js";
import type { EdgeNodeConfig } from "../config.js";

export type ControlStream = ClientDuplexStream<NodeMessage, ControlMessage>;

/** The metadata key the enrolment token travels in (the control plane's `NODE_TOKEN_METADATA`). */
const TOKEN_METADATA = "authorization";

/**
 * Opens streams to the control plane replicas listed in `EDGE_CONTROL_PLANE`,
 * one address at a time: `advance()` moves to the next, so a node whose
 * replica died fails over to another. One gRPC client per address, made on
 * first use, with the link's TLS credentials, message limits and keepalive,
 * and the enrolment token on every stream.
 */
export class ControlPlaneConnector {
  readonly #addresses: readonly string[];
  readonly #clients = new Map<string, ControlPlaneServiceClient>();
  readonly #credentials: ChannelCredentials;
  readonly #options: Record<string, string | number>;
  readonly #token: string | null;
  #index = 0;

  constructor(config: EdgeNodeConfig) {
    this.#addresses = config.controlPlaneAddresses;
    this.#token = config.nodeToken;
    const tls = config.controlPlaneTls;
    this.#credentials =
      tls === null
        ? credentials.createInsecure()
        : credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
    this.#options = {
      ...GRPC_CHANNEL_OPTIONS,
      "grpc.max_receive_message_length": config.grpcMaxMessageBytes,
      "grpc.max_send_message_length": config.grpcMaxMessageBytes,
      ...(tls?.serverName ? { "grpc.ssl_target_name_override": tls.serverName } : {}),
    };
  }

  /** The address the next stream opens to. */
  get address(): string {
    return this.#addresses[this.#index % this.#addresses.length]!;
  }

  get addressCount(): number {
    return this.#addresses.length;
  }

  open(): ControlStream {
    const address = this.address;
    let client = this.#clients.get(address);
    if (client === undefined) {
      client = new ControlPlaneServiceClient(address, this.#credentials, this.#options);
      this.#clients.set(address, client);
    }
    const metadata = new Metadata();
    if (this.#token !== null) metadata.set(TOKEN_METADATA, `Bearer ${this.#token}`);
    return client.connect(metadata);
  }

  /** The stream to the current address is over: the next one goes to the next address. */
  advance(): void {
    this.#index = (this.#index + 1) % this.#addresses.length;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
