import type { Socket } from "node:net";
import type { Logger } from "pino";

export type TcpAnswerFn = (raw: Buffer, remoteAddress: string, transport: "tcp") => Promise<Buffer | null>;

export interface TcpLimits {
  /**
   * A connection with nothing to do (no query pending, none half-received)
   * for this long is closed, and a query must arrive whole within this long
   * of its first byte: a one-byte-every-few-seconds drip cannot keep it open.
   */
  idleMs: number;
  /** Queries read but not yet answered; beyond it the connection is not read until answers go out. */
  maxPending: number;
}

type Deadline = "idle" | "partial" | "stalled";

/** A client that reads none of its answers gets this many `idleMs` before the connection is cut. */
const STALL_FACTOR = 6;

export const DEFAULT_TCP_LIMITS: TcpLimits = { idleMs: 10_000, maxPending: 16 };

/**
 * Reads length-prefixed messages off a TCP stream (RFC 1035 §4.2.2, RFC 7766)
 * and answers them in order, with bounds: at most `maxPending` queries in
 * flight and no reading while the client does not read its answers
 * (backpressure), so 100k pipelined queries cost a few buffers, not memory
 * in proportion; and the deadlines of `idleMs`.
 */
export function serveTcpConnection(
  socket: Socket,
  answer: TcpAnswerFn,
  limits: TcpLimits,
  log: Logger,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  let queue = Promise.resolve();
  let pending = 0;
  let writable = true;
  let timer: NodeJS.Timeout | null = null;
  let paused = false;
  /** Why the current deadline closes the connection; null: none set. */
  let deadlineFor: Deadline | null = null;

  const setDeadline = (kind: Deadline | null): void => {
    if (kind === deadlineFor) return;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    deadlineFor = kind;
    if (kind === null) return;
    timer = setTimeout(
      () => {
        // An idle connection is closed politely; a drip of a query, or a client that stopped reading, is cut.
        if (kind === "idle") socket.end();
        else socket.destroy();
      },
      kind === "stalled" ? limits.idleMs * STALL_FACTOR : limits.idleMs,
    );
  };
  /** The deadline that applies now (only set when it changes, so activity does not extend a drip's). */
  const review = (): void => {
    // While the server is not reading (its own backpressure), a half-received query is not the client's doing.
    if (paused) setDeadline(writable ? null : "stalled");
    else if (buffered.length > 0) setDeadline("partial");
    else if (pending === 0) setDeadline("idle");
    else setDeadline(null);
  };
  const flowControl = (): void => {
    if (socket.destroyed) return;
    paused = pending >= limits.maxPending || !writable;
    if (paused) socket.pause();
    else socket.resume();
  };

  socket.on("error", () => socket.destroy());
  socket.on("close", () => setDeadline(null));
  socket.on("drain", () => {
    writable = true;
    flowControl();
    review();
  });
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length === 0) {
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      const message = Buffer.from(buffered.subarray(2, 2 + length));
      buffered = buffered.subarray(2 + length);
      // A new query starts its own deadline.
      if (deadlineFor === "partial") setDeadline(null);
      pending += 1;
      queue = queue.then(async () => {
        const reply = await answer(message, socket.remoteAddress ?? "", "tcp").catch((err: unknown) => {
          log.error({ err }, "dns: failed to answer a TCP query");
          return null;
        });
        pending -= 1;
        if (!socket.destroyed && reply !== null) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length);
          if (!socket.write(Buffer.concat([prefix, reply]))) writable = false;
        }
        flowControl();
        review();
      });
    }
    if (buffered.length > 0 && buffered.byteOffset > 0) buffered = Buffer.from(buffered);
    flowControl();
    review();
  });
  review();
}
