import { type Agent, type ClientRequest, type IncomingMessage, request } from "node:http";
import type { HostPort } from "../node-address.js";

export type Attempt =
  | { ok: true; response: IncomingMessage; upstream: ClientRequest }
  | {
      ok: false;
      error: Error;
      /** Whether a connection to the PoP was made: if not, nothing reached it and any request may be retried. */
      connected: boolean;
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
  agent: Agent;
}

/**
 * One attempt at a PoP. The body is not touched until the connection is up,
 * so a PoP that refuses the connection (or does not answer within
 * `connectTimeoutMs`) leaves the body unread for the next attempt.
 * Resolves when the response head arrives or the attempt fails; never rejects.
 */
export function forwardOnce(options: ForwardOptions): Promise<Attempt> {
  const { target, body } = options;
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const upstream = request({
      host: target.host,
      port: target.port,
      method: options.method,
      path: options.path,
      headers: options.headers,
      setHost: false,
      agent: options.agent,
    });
    const connectTimer = setTimeout(() => {
      upstream.destroy(
        new Error(`no connection to ${target.host}:${target.port} within ${options.connectTimeoutMs} ms`),
      );
    }, options.connectTimeoutMs);
    const settle = (attempt: Attempt) => {
      clearTimeout(connectTimer);
      if (settled) return;
      settled = true;
      resolve(attempt);
    };
    const onConnected = () => {
      connected = true;
      clearTimeout(connectTimer);
      if (body === null) upstream.end();
      else body.pipe(upstream);
    };
    upstream.on("socket", (socket) => {
      // A kept-alive socket is already connected; a new one is not yet.
      if (socket.connecting) socket.once("connect", onConnected);
      else onConnected();
    });
    upstream.on("response", (response) => settle({ ok: true, response, upstream }));
    upstream.on("error", (error) => settle({ ok: false, error, connected, upstream }));
  });
}
