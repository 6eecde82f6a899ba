import { type Agent, type ClientRequest, type IncomingMessage, request } from "node:http";
import type { HostPort } from "../node-address.js";

/**
 * How an attempt failed:
 * - `connect`: no connection was made (refused, or not accepted within the connect timeout):
 *   nothing reached the PoP and the body was not touched, so any request may go elsewhere;
 * - `timeout`: connected, but the PoP owed its response head longer than the response timeout
 *   (a frozen process, a wedged event loop);
 * - `broken`: connected, then the connection failed or closed before a response head.
 */
export type FailureKind = "connect" | "timeout" | "broken";

export type Attempt =
  | { ok: true; response: IncomingMessage; upstream: ClientRequest }
  | {
      ok: false;
      error: Error;
      failure: FailureKind;
      /** Whether any of the client's body was read for this attempt (it cannot be replayed then). */
      bodyStarted: boolean;
      upstream: ClientRequest;
    };

export interface ForwardOptions {
  target: HostPort;
  method: string;
  path: string;
  /** Flat `[name, value, ...]` pairs, `Host` included. */
  headers: string[];
  /** The client's request body, streamed once the connection is up; `null` for none. */
  body: IncomingMessage | null;
  connectTimeoutMs: number;
  /** How long the PoP may keep the router waiting for its response head (see `waitOnPop`). */
  responseTimeoutMs: number;
  agent: Agent;
  /** Called with the request as soon as it exists, so that a client that goes away can cancel it. */
  onRequest?: (upstream: ClientRequest) => void;
}

/**
 * One attempt at a PoP. The body is not touched until the connection is up,
 * so a PoP that refuses the connection (or does not answer within
 * `connectTimeoutMs`) leaves the body unread for the next attempt.
 *
 * The response timer runs only while the router waits on the PoP: once the
 * whole request is written, or while the PoP will not take more of the body
 * (backpressure). While the router waits on a slow client, it is paused, so a
 * slow upload is not blamed on the PoP, while a frozen PoP is caught whether
 * the request was small (it sits in the kernel's buffers) or large (they fill).
 * Resolves when the response head arrives or the attempt fails; never rejects.
 */
export function forwardOnce(options: ForwardOptions): Promise<Attempt> {
  const { target, body } = options;
  return new Promise((resolve) => {
    let connected = false;
    let bodyStarted = false;
    let settled = false;
    let responseTimer: NodeJS.Timeout | undefined;
    const upstream = request({
      host: target.host,
      port: target.port,
      method: options.method,
      path: options.path,
      headers: options.headers,
      setHost: false,
      agent: options.agent,
    });
    options.onRequest?.(upstream);
    const connectTimer = setTimeout(() => {
      upstream.destroy(
        new Error(`no connection to ${target.host}:${target.port} within ${options.connectTimeoutMs} ms`),
      );
    }, options.connectTimeoutMs);

    const waitOnPop = () => {
      if (settled || responseTimer !== undefined) return;
      responseTimer = setTimeout(() => {
        fail(
          "timeout",
          new Error(
            `${target.host}:${target.port} sent no response head within ${options.responseTimeoutMs} ms`,
          ),
        );
        upstream.destroy();
      }, options.responseTimeoutMs);
    };
    const stopWaiting = () => {
      clearTimeout(responseTimer);
      responseTimer = undefined;
    };

    const pump = (chunk: Buffer) => {
      bodyStarted = true;
      if (upstream.write(chunk)) return;
      body?.pause();
      waitOnPop();
      upstream.once("drain", () => {
        stopWaiting();
        body?.resume();
        // Should `finish` have come first, the PoP still owes its response head.
        if (upstream.writableFinished) waitOnPop();
      });
    };
    const endUpstream = () => upstream.end();

    const settle = (attempt: Attempt) => {
      clearTimeout(connectTimer);
      stopWaiting();
      if (settled) return;
      settled = true;
      if (!attempt.ok && body !== null && bodyStarted) {
        // The body goes nowhere now: let the rest of it drain so the client can read the error.
        body.off("data", pump);
        body.off("end", endUpstream);
        body.resume();
      }
      resolve(attempt);
    };
    const fail = (failure: FailureKind, error: Error) =>
      settle({ ok: false, error, failure, bodyStarted, upstream });

    const onConnected = () => {
      connected = true;
      clearTimeout(connectTimer);
      upstream.once("finish", waitOnPop);
      if (body === null) {
        upstream.end();
        return;
      }
      body.on("data", pump);
      body.once("end", endUpstream);
    };
    upstream.on("socket", (socket) => {
      // A kept-alive socket is already connected; a new one is not yet.
      if (socket.connecting) socket.once("connect", onConnected);
      else onConnected();
    });
    upstream.on("response", (response) => settle({ ok: true, response, upstream }));
    upstream.on("error", (error) => fail(connected ? "broken" : "connect", error));
    upstream.on("close", () =>
      fail(
        connected ? "broken" : "connect",
        new Error(`${target.host}:${target.port} closed the connection`),
      ),
    );
  });
}
