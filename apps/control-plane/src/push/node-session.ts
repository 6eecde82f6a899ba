import { randomUUID } from "node:crypto";
import type { Ack, ControlMessage, Hello, NodeMessage } from "@edge/protocol";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { diffConfig, isEmptyDelta, packDelta } from "./config-diff.js";
import type { DesiredConfig } from "./desired.js";
import type { NodeRecord } from "./registry.js";
import { type StreamErrorCode, streamStatus } from "./stream-errors.js";
import { StreamWriter } from "./stream-writer.js";
import type { NodeLink, NodeTelemetryHooks } from "./telemetry-hooks.js";

export type ConnectCall = ServerDuplexStream<NodeMessage, ControlMessage>;

/** What a session needs from the hub. */
export interface SessionHost {
  readonly logger: Logger;
  readonly controlPlaneId: string;
  readonly heartbeatIntervalMs: number;
  /** Most bytes of resources one push carries; a larger delta goes out as several pushes. */
  readonly maxPushBytes: number;
  now(): number;
  /** Registers the node behind `session`; ends any older stream of the same node id. */
  attach(session: NodeSession, hello: Hello): NodeRecord;
  /** The stream is over. */
  detach(session: NodeSession, record: NodeRecord | null): void;
  /** A fresh read of the desired config (the first push of a stream). */
  desired(): Promise<DesiredConfig>;
  /** The latest desired config the hub has read, if any (a push held back by backpressure). */
  latestDesired(): DesiredConfig | null;
  /** The node's record changed in a way worth sharing with other replicas soon. */
  changed(record: NodeRecord): void;
  /** Metrics, tail and logs: the session only forwards (see `telemetry-hooks.ts`). */
  readonly telemetry: NodeTelemetryHooks;
}

/** A push on this stream, kept until its ACK arrives. */
interface PendingPush {
  nonce: string;
  configVersion: number;
  /** name -> release key upserted (undefined for a removal) */
  touched: Map<string, string | undefined>;
}

type State = "awaiting-hello" | "open" | "closed";

/**
 * One `Connect` stream: hello -> welcome -> pushes, ACKs, heartbeats, metrics.
 *
 * Pushes are always deltas (`full=false`), including the first one: it is the
 * difference between the desired config and what the hello said the node
 * holds, so a node restarting with a warm cache receives only what changed
 * while it was away, and removals for what is no longer live.
 *
 * Three views of the node: `target` (what it will hold once it has applied
 * everything sent, used for the next delta), `acked` (what it confirmed: what
 * `GET /v1/nodes` shows) and `rejected` (releases it NACKed: parked, never
 * sent again until the desired release of that script changes). ACKs are
 * matched to pushes in flight by nonce, in order; a nonce not in flight (from
 * an older stream, acknowledged already, or made up) is ignored.
 */
export class NodeSession {
  private state: State = "awaiting-hello";
  private record: NodeRecord | null = null;
  private link: NodeLink | null = null;
  private log: Logger;
  private readonly writer: StreamWriter<ControlMessage>;
  private readonly target = new Map<string, string>();
  private readonly acked = new Map<string, string>();
  private readonly rejected = new Map<string, string>();
  private readonly pending: PendingPush[] = [];
  private sentRevision = -1;
  /** A sync was held back while the stream was full; run it once the stream drains. */
  private deferred = false;

  constructor(
    private readonly call: ConnectCall,
    private readonly host: SessionHost,
  ) {
    this.log = host.logger.child({ peer: call.getPeer() });
    this.writer = new StreamWriter(call, () => this.onDrained());
    call.on("data", (message: NodeMessage) => this.onMessage(message));
    call.on("end", () => this.finish("node closed the stream"));
    call.on("cancelled", () => this.finish("stream cancelled"));
    call.on("close", () => this.finish("stream closed"));
    // grpc-js turns an 'error' into the call's final status; a failing socket also lands here.
    call.on("error", (error: Error) => this.finish(`stream error: ${error.message}`));
  }

  /** The node behind this stream, once it said hello. */
  get node(): NodeRecord | null {
    return this.record;
  }

  /**
   * Brings the node to `desired`: sends the delta, if any, as one push or
   * (when large) several. An older config than the one last sent is ignored,
   * unless `force` (the store went back: it lost data, and is still the truth).
   * True if something was sent.
   */
  sync(desired: DesiredConfig, force = false): boolean {
    if (this.state !== "open") return false;
    const record = this.record!;
    const first = this.sentRevision < 0;
    if (!first && !force && desired.revision < this.sentRevision) return false;
    // Backpressure: never queue pushes behind a full stream; the latest config goes out after 'drain'.
    if (this.writer.busy) {
      this.deferred = true;
      return false;
    }
    this.deferred = false;

    const wanted = desired.forPop(record.pop);
    let unparked = false;
    for (const [name, key] of this.rejected) {
      if (wanted.get(name)?.key !== key) {
        this.rejected.delete(name);
        unparked = true;
      }
    }
    if (unparked) this.updateParked(record);

    const delta = diffConfig(wanted, this.target, this.rejected, desired.withheld);
    // The first push always goes out (even empty) so the node learns it is current;
    // an empty later one only when the revision moved, so configVersion keeps up.
    if (!first && isEmptyDelta(delta) && desired.revision === this.sentRevision) return false;

    const packs = packDelta(delta, this.host.maxPushBytes);
    const reached = Math.max(this.sentRevision, 0);
    packs.forEach((pack, i) => {
      const last = i === packs.length - 1;
      const push: PendingPush = {
        nonce: randomUUID(),
        // A node is at the new revision only once the last part is applied.
        configVersion: last ? desired.revision : reached,
        touched: new Map(),
      };
      for (const resource of pack.upserts) {
        push.touched.set(resource.name, resource.key);
        this.target.set(resource.name, resource.key);
      }
      for (const name of pack.removals) {
        push.touched.set(name, undefined);
        this.target.delete(name);
      }
      this.pending.push(push);
      this.writer.write({
        msg: {
          $case: "push",
          value: {
            nonce: push.nonce,
            configVersion: push.configVersion,
            full: false,
            upserts: pack.upserts.map((resource) => resource.script),
            removals: pack.removals,
          },
        },
      });
    });
    this.sentRevision = desired.revision;
    this.log.debug(
      {
        configVersion: desired.revision,
        upserts: delta.upserts.length,
        removals: delta.removals.length,
        pushes: packs.length,
      },
      "config pushed",
    );
    return true;
  }

  /** Ends the stream from the control plane's side with a coded status. */
  end(code: StreamErrorCode): void {
    if (this.state === "closed") return;
    this.log.info({ code }, "ending stream");
    this.finish(code, false);
    // grpc-js sends an emitted 'error' as the call's status, then ends the call.
    if (!this.call.destroyed && !this.call.writableEnded) this.call.emit("error", streamStatus(code));
  }

  private onDrained(): void {
    if (!this.deferred) return;
    const latest = this.host.latestDesired();
    if (latest !== null) this.sync(latest);
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
      case "heartbeat": {
        record.inFlight = msg.value.inFlight;
        const checks = [...msg.value.failingChecks].sort();
        if (checks.join("\n") !== record.failingChecks.join("\n")) {
          record.failingChecks = checks;
          if (checks.length > 0)
            this.log.warn({ failingChecks: checks }, "node reports failing health checks");
          this.host.changed(record);
        }
        break;
      }
      case "ack":
        this.onAck(msg.value, record);
        break;
      case "metrics":
        this.host.telemetry.metrics?.(this.link!, msg.value);
        break;
      default:
        // Tail batches, log replies... An empty message (or a type this build does not know)
        // is already counted as a sign of life.
        if (msg !== undefined) this.host.telemetry.message?.(this.link!, msg);
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
    const record = this.host.attach(this, hello);
    this.record = record;
    this.link = {
      id: record.id,
      pop: record.pop,
      send: (msg) => {
        if (this.state === "closed") return false;
        this.writer.write({ msg });
        return true;
      },
    };
    for (const [name, key] of Object.entries(record.releases)) {
      this.target.set(name, key);
      this.acked.set(name, key);
    }
    for (const [name, key] of Object.entries(hello.rejectedReleases)) this.rejected.set(name, key);
    this.log.info(
      {
        httpAddress: hello.httpAddress,
        agentVersion: hello.agentVersion,
        held: this.target.size,
        parked: this.rejected.size,
      },
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
    this.host.telemetry.opened?.(this.link);
    this.host.desired().then(
      (desired) => {
        this.sync(desired);
        // A run the hub finished before this stream was open may have read something newer.
        const newest = this.host.latestDesired();
        if (newest !== null && newest.revision > desired.revision) this.sync(newest);
      },
      (error: unknown) => {
        this.log.error({ err: error }, "cannot read the store for the first push");
        this.end("EDGE_STORE_UNAVAILABLE");
      },
    );
  }

  /**
   * The agent applies pushes in order and ACKs each, so an ACK settles its
   * push and any still in flight before it (treated as applied, had their
   * ACKs been lost). A rejected script keeps the release the node held before
   * (`acked`) and is parked under the rejected release key.
   */
  private onAck(ack: Ack, record: NodeRecord): void {
    const index = this.pending.findIndex((push) => push.nonce === ack.nonce);
    if (index < 0) {
      this.log.debug({ nonce: ack.nonce }, "ack of a push not in flight ignored");
      return;
    }
    const settled = this.pending.splice(0, index + 1);
    const push = settled[settled.length - 1]!;
    for (const earlier of settled.slice(0, -1)) this.applied(earlier, new Set());

    const failed = new Set<string>();
    for (const error of ack.errors) {
      if (!push.touched.has(error.name) || push.touched.get(error.name) === undefined) continue;
      const key = push.touched.get(error.name)!;
      failed.add(error.name);
      this.rejected.set(error.name, key);
      record.nackCount += 1;
      record.lastNack = {
        script: error.name,
        version: error.version,
        error: error.errorDetail,
        at: this.host.now(),
      };
      // Unless a later push already sends something else for it, the node is back where it was.
      if (!this.pending.some((later) => later.touched.has(error.name))) {
        const held = this.acked.get(error.name);
        if (held === undefined) this.target.delete(error.name);
        else this.target.set(error.name, held);
      }
      this.log.warn(
        { script: error.name, version: error.version, release: key, error: error.errorDetail },
        "node rejected a script; parked until its desired release changes",
      );
    }
    this.applied(push, failed);
    record.configVersion = push.configVersion;
    record.releases = Object.fromEntries(this.acked);
    record.lastAckHadErrors = failed.size > 0;
    if (failed.size > 0) this.updateParked(record);
    this.host.changed(record);
  }

  /** Records what a push changed on the node, except the scripts it rejected. */
  private applied(push: PendingPush, failed: ReadonlySet<string>): void {
    for (const [name, key] of push.touched) {
      if (failed.has(name)) continue;
      if (key === undefined) this.acked.delete(name);
      else this.acked.set(name, key);
    }
  }

  private updateParked(record: NodeRecord): void {
    record.parked = Object.fromEntries(this.rejected);
    this.host.changed(record);
  }

  private finish(reason: string, endCall = true): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.writer.close();
    if (wasOpen) this.log.info({ reason }, "node stream ended");
    this.host.detach(this, this.record);
    if (this.link !== null) this.host.telemetry.closed?.(this.link);
    // E.g. the node half-closed: answer with OK so the call completes on both sides.
    if (endCall && !this.call.destroyed && !this.call.writableEnded) this.call.end();
  }
}
