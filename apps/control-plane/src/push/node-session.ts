import { randomUUID } from "node:crypto";
import type { Ack, ControlMessage, Hello, MetricsReport, NodeMessage } from "@edge/protocol";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Snapshot } from "../store/types.js";
import { diffConfig, isEmptyDelta, toWireScript } from "./config-diff.js";
import type { NodeRecord } from "./registry.js";
import { type StreamErrorCode, streamStatus } from "./stream-errors.js";
import { StreamWriter } from "./stream-writer.js";
import type { NodeNack } from "./types.js";

export type ConnectCall = ServerDuplexStream<NodeMessage, ControlMessage>;

/** What a session needs from the hub. */
export interface SessionHost {
  readonly logger: Logger;
  readonly controlPlaneId: string;
  readonly heartbeatIntervalMs: number;
  now(): number;
  /** Registers the node behind `session`; ends any older stream of the same node id. */
  attach(session: NodeSession, hello: Hello): NodeRecord;
  /** The stream is over. */
  detach(session: NodeSession, record: NodeRecord | null): void;
  snapshot(): Promise<Snapshot>;
  metrics(record: NodeRecord, report: MetricsReport): void;
}

/** The latest push on this stream, kept until its ACK arrives. */
interface PendingPush {
  nonce: string;
  configVersion: number;
  /** name -> version upserted (undefined for a removal) */
  touched: Map<string, number | undefined>;
  /** name -> version the node held before this push (undefined: none) */
  before: Map<string, number | undefined>;
}

type State = "awaiting-hello" | "open" | "closed";

/**
 * One `Connect` stream: hello -> welcome -> pushes, ACKs, heartbeats, metrics.
 *
 * Pushes are always deltas (`full=false`), including the first one: it is the
 * difference between the store snapshot and `hello.heldVersions`, so a node
 * restarting with a warm cache receives only what changed while it was away,
 * and removals for what it holds that is no longer live.
 *
 * Each later delta is computed against `target`: what the node will hold once
 * it has applied everything sent on this stream (optimistically), corrected
 * when an ACK lists rejected scripts.
 */
export class NodeSession {
  private state: State = "awaiting-hello";
  private record: NodeRecord | null = null;
  private log: Logger;
  private readonly writer: StreamWriter<ControlMessage>;
  private readonly target = new Map<string, number>();
  /** name -> version the node rejected; not sent again until the desired version changes. */
  private readonly rejected = new Map<string, number>();
  private latest: PendingPush | null = null;
  private sentRevision = -1;

  constructor(
    private readonly call: ConnectCall,
    private readonly host: SessionHost,
  ) {
    this.log = host.logger.child({ peer: call.getPeer() });
    this.writer = new StreamWriter(call);
    call.on("data", (message: NodeMessage) => this.onMessage(message));
    call.on("end", () => this.finish("node closed the stream"));
    call.on("cancelled", () => this.finish("stream cancelled"));
    call.on("close", () => this.finish("stream closed"));
    // grpc-js turns an 'error' into the call's final status; a failing socket also lands here.
    call.on("error", (error: Error) => this.finish(`stream error: ${error.message}`));
  }

  /** Brings the node to `snapshot`: sends the delta, if any. Older snapshots are ignored. */
  sync(snapshot: Snapshot): void {
    if (this.state !== "open") return;
    const first = this.sentRevision < 0;
    if (!first && snapshot.revision < this.sentRevision) return;

    for (const [name, version] of this.rejected) {
      if (!snapshot.scripts.some((s) => s.name === name && s.version === version)) this.rejected.delete(name);
    }
    const delta = diffConfig(snapshot.scripts, this.target, this.rejected);
    // The first push always goes out (even empty) so the node learns it is current;
    // an empty later one only when the revision moved, so configVersion keeps up.
    if (!first && isEmptyDelta(delta) && snapshot.revision <= this.sentRevision) return;

    const push: PendingPush = {
      nonce: randomUUID(),
      configVersion: snapshot.revision,
      touched: new Map(),
      before: new Map(),
    };
    for (const script of delta.upserts) {
      push.before.set(script.name, this.target.get(script.name));
      push.touched.set(script.name, script.version);
      this.target.set(script.name, script.version);
    }
    for (const name of delta.removals) {
      push.before.set(name, this.target.get(name));
      push.touched.set(name, undefined);
      this.target.delete(name);
    }
    this.latest = push;
    this.sentRevision = snapshot.revision;
    this.writer.write({
      msg: {
        $case: "push",
        value: {
          nonce: push.nonce,
          configVersion: push.configVersion,
          full: false,
          upserts: delta.upserts.map(toWireScript),
          removals: delta.removals,
        },
      },
    });
    this.log.debug(
      { configVersion: push.configVersion, upserts: delta.upserts.length, removals: delta.removals.length },
      "config pushed",
    );
  }

  /** Ends the stream from the control plane's side with a coded status. */
  end(code: StreamErrorCode): void {
    if (this.state === "closed") return;
    this.log.info({ code }, "ending stream");
    this.finish(code, false);
    // grpc-js sends an emitted 'error' as the call's status, then ends the call.
    if (!this.call.destroyed && !this.call.writableEnded) this.call.emit("error", streamStatus(code));
  }

  private onMessage(message: NodeMessage): void {
    if (this.state === "closed") return;
    const msg = message.msg;
    if (this.state === "awaiting-hello") {
      if (msg?.$case === "hello") this.onHello(msg.value);
      else this.end("EDGE_HELLO_REQUIRED");
      return;
    }
    const record = this.record!;
    record.lastSeenMs = this.host.now();
    switch (msg?.$case) {
      case "hello":
        this.end("EDGE_DUPLICATE_HELLO");
        break;
      case "heartbeat":
        record.inFlight = msg.value.inFlight;
        break;
      case "ack":
        this.onAck(msg.value, record);
        break;
      case "metrics":
        this.host.metrics(record, msg.value);
        break;
      default:
        // An empty or unknown message from a newer agent: already counted as a sign of life.
        break;
    }
  }

  private onHello(hello: Hello): void {
    if (hello.nodeId.trim() === "") {
      this.end("EDGE_INVALID_HELLO");
      return;
    }
    this.state = "open";
    this.log = this.host.logger.child({ nodeId: hello.nodeId, pop: hello.pop });
    for (const [name, version] of Object.entries(hello.heldVersions)) this.target.set(name, version);
    this.record = this.host.attach(this, hello);
    this.log.info(
      { httpAddress: hello.httpAddress, agentVersion: hello.agentVersion, held: this.target.size },
      "node connected",
    );
    this.writer.write({
      msg: {
        $case: "welcome",
        value: {
          controlPlaneId: this.host.controlPlaneId,
          heartbeatIntervalMs: this.host.heartbeatIntervalMs,
        },
      },
    });
    this.host.snapshot().then(
      (snapshot) => this.sync(snapshot),
      (error: unknown) => {
        this.log.error({ err: error }, "cannot read the store for the first push");
        this.end("EDGE_STORE_UNAVAILABLE");
      },
    );
  }

  /**
   * Only the ACK of the latest push counts. One for an older push (a newer one
   * crossed it on the wire) is ignored with its errors: the node then shows the
   * versions it was sent, and a rejected one is retried with the next deploy of
   * that script rather than at once.
   */
  private onAck(ack: Ack, record: NodeRecord): void {
    const push = this.latest;
    if (push === null || ack.nonce !== push.nonce) {
      this.log.debug({ nonce: ack.nonce }, "stale ack ignored");
      return;
    }
    this.latest = null;
    let nack: NodeNack | null = null;
    for (const error of ack.errors) {
      if (!push.touched.has(error.name)) continue;
      // A rejected script keeps whatever the node had before this push.
      const before = push.before.get(error.name);
      if (before === undefined) this.target.delete(error.name);
      else this.target.set(error.name, before);
      const sent = push.touched.get(error.name);
      if (sent !== undefined) this.rejected.set(error.name, sent);
      nack = {
        script: error.name,
        version: sent ?? error.version,
        error: error.errorDetail,
        at: this.host.now(),
      };
      this.log.warn(
        { script: error.name, version: nack.version, error: error.errorDetail },
        "node rejected a script",
      );
    }
    record.configVersion = push.configVersion;
    record.scripts = new Map(this.target);
    record.lastAckHadErrors = nack !== null;
    if (nack !== null) record.lastNack = nack;
  }

  private finish(reason: string, endCall = true): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.writer.close();
    if (wasOpen) this.log.info({ reason }, "node stream ended");
    this.host.detach(this, this.record);
    // E.g. the node half-closed: answer with OK so the call completes on both sides.
    if (endCall && !this.call.destroyed && !this.call.writableEnded) this.call.end();
  }
}
