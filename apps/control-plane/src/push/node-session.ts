import { type Ack, type ControlMessage, type Hello, type NodeMessage, preEncodedPush } from "@edge/protocol";
import type { Logger } from "pino";
import { type ConfigDelta, isEmptyDelta, packDelta } from "./config-diff.js";
import type { DesiredConfig } from "./desired.js";
import { helloProblem } from "./hello-check.js";
import { NodeReleases } from "./node-releases.js";
import type { NodeRecord } from "./registry.js";
import type { ConnectCall, HelloAuthenticator, SessionHost } from "./session-host.js";
import { type StreamErrorCode, streamStatus } from "./stream-errors.js";
import { StreamWriter } from "./stream-writer.js";
import type { NodeLink } from "./telemetry-hooks.js";

type State = "awaiting-hello" | "authenticating" | "open" | "closed";

/**
 * One `Connect` stream: hello -> welcome -> pushes, ACKs, heartbeats, metrics.
 *
 * Pushes are always deltas (`full=false`), including the first one: it is the
 * difference between the desired config and what the hello said the node
 * holds, so a node restarting with a warm cache receives only what changed
 * while it was away, and removals for what is no longer live. What the node
 * holds, will hold and rejected is kept by `NodeReleases`.
 */
export class NodeSession {
  private state: State = "awaiting-hello";
  private record: NodeRecord | null = null;
  private link: NodeLink | null = null;
  private log: Logger;
  private readonly writer: StreamWriter<ControlMessage>;
  private readonly releases = new NodeReleases();
  private sentRevision = -1;
  /** A sync was held back while the stream was full; run it once the stream drains. */
  private deferred = false;
  /** The credential the node authenticated with (per-node enrolment); null: none was asked for. */
  private authCredential: string | null = null;

  constructor(
    private readonly call: ConnectCall,
    private readonly host: SessionHost,
    private readonly authenticate: HelloAuthenticator | null = null,
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

  /** What the node authenticated with, if enrolment is on (see `HelloAuthResult`). */
  get credential(): string | null {
    return this.authCredential;
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
    // Usually only the names changed since the last push need a look; a fresh stream, a reset or
    // a stream further behind than the hub's journal compares everything.
    const changed = first || force ? null : desired.changedSince(this.sentRevision);
    let delta: ConfigDelta;
    if (changed === null) {
      if (this.releases.unpark(wanted)) this.updateParked(record);
      delta = this.releases.delta(wanted, desired.withheld);
    } else {
      const partial = this.releases.deltaOf(changed, wanted, desired.withheld);
      if (partial.unparked) this.updateParked(record);
      delta = partial.delta;
    }
    // The first push always goes out (even empty) so the node learns it is current;
    // an empty later one only when the revision moved, so configVersion keeps up.
    if (!first && isEmptyDelta(delta) && desired.revision === this.sentRevision) return false;

    const packs = packDelta(delta, this.host.maxPushBytes);
    const reached = Math.max(this.sentRevision, 0);
    packs.forEach((pack, i) => {
      const last = i === packs.length - 1;
      // A node is at the new revision only once the last part is applied.
      const push = this.releases.track(pack, last ? desired.revision : reached);
      const upserts = this.host.encodings.get(desired.revision, pack.upserts);
      this.writer.write(
        preEncodedPush(
          {
            nonce: push.nonce,
            configVersion: push.configVersion,
            full: false,
            upserts: pack.upserts.map((resource) => resource.script),
            removals: pack.removals,
          },
          upserts,
        ),
      );
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
  end(code: StreamErrorCode, detail?: string): void {
    if (this.state === "closed") return;
    this.log.info({ code, detail }, "ending stream");
    this.finish(code, false);
    // grpc-js sends an emitted 'error' as the call's status, then ends the call.
    if (!this.call.destroyed && !this.call.writableEnded) this.call.emit("error", streamStatus(code, detail));
  }

  private onDrained(): void {
    if (!this.deferred) return;
    const latest = this.host.latestDesired();
    if (latest !== null) this.sync(latest);
  }

  private onMessage(message: NodeMessage): void {
    if (this.state === "closed") return;
    const msg = message.msg;
    // Nothing is read before the node proved who it is: the call is paused meanwhile, and the
    // protocol has the node wait for its first push anyway.
    if (this.state === "authenticating") {
      return;
    }
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
        // NACKs after the ACK (versions a bulk push delivered that then failed to prepare).
        let parked = false;
        for (const error of msg.value.failed.slice(0, 1_000)) {
          parked = this.releases.parkHeld(error, record, () => this.host.now(), this.log) || parked;
        }
        if (parked) this.updateParked(record);
        const retrying = retryingOf(msg.value.retrying);
        if (JSON.stringify(retrying) !== JSON.stringify(record.retrying ?? {})) {
          record.retrying = retrying;
          if (Object.keys(retrying).length > 0)
            this.log.warn({ retrying }, "node is preparing scripts again after transient failures");
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
    const problem = helloProblem(hello);
    if (problem !== null) {
      this.log.warn({ problem }, "node refused: invalid hello");
      this.end("EDGE_INVALID_HELLO", problem);
      return;
    }
    if (this.authenticate === null) {
      this.open(hello);
      return;
    }
    this.state = "authenticating";
    this.call.pause();
    this.authenticate(hello).then(
      (result) => {
        if (this.state !== "authenticating") return;
        if (!result.ok) {
          this.log.warn({ nodeId: hello.nodeId, pop: hello.pop, code: result.code }, "node refused");
          this.end(result.code, result.detail);
          return;
        }
        this.authCredential = result.credential;
        this.open(hello);
        this.call.resume();
      },
      (error: unknown) => {
        this.log.error({ err: error }, "cannot check the node's enrolment");
        this.end("EDGE_STORE_UNAVAILABLE");
      },
    );
  }

  private open(hello: Hello): void {
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
    this.releases.seed(record.releases, hello.rejectedReleases);
    this.log.info(
      {
        httpAddress: hello.httpAddress,
        agentVersion: hello.agentVersion,
        held: this.releases.heldCount,
        parked: this.releases.parkedCount,
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

  /** An ACK settles pushes in flight (see `NodeReleases.settle`); a NACK parks what was rejected. */
  private onAck(ack: Ack, record: NodeRecord): void {
    const failed = this.releases.settle(ack, record, () => this.host.now(), this.log);
    if (failed === null) return;
    if (failed.size > 0) this.updateParked(record);
    else this.host.acked(record);
  }

  private updateParked(record: NodeRecord): void {
    record.parked = this.releases.parked();
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

/** The heartbeat's retrying list as name -> reason, bounded (a node reports at most its scripts). */
function retryingOf(list: ReadonlyArray<{ name: string; reason: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, reason } of list.slice(0, 1_000)) {
    if (/^[a-z0-9-]{1,63}$/.test(name)) out[name] = reason.slice(0, 500);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
