import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, isIPv6, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { DEFAULT_TCP_LIMITS, serveTcpConnection } from "./tcp-connection.js";

export type AnswerFn = (
  raw: Buffer,
  remoteAddress: string,
  transport: "udp" | "tcp",
) => Promise<Buffer | null>;

export interface DnsServerOptions {
  host: string;
  /** `0` picks a port free for both UDP and TCP. */
  port: number;
  answer: AnswerFn;
  logger: Logger;
  /** A TCP connection with nothing to do, or a query not whole, for this long is closed (RFC 7766 suggests seconds). */
  tcpIdleMs?: number;
  /** Queries one TCP connection may have in flight before it is not read (default 16). */
  tcpMaxPending?: number;
  /** TCP connections open at once; more are refused (default 512). */
  tcpMaxConnections?: number;
}

export interface DnsServer {
  port: number;
  close(): Promise<void>;
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * DNS over UDP and TCP on one port. Each message goes to `answer`; a
 * message that cannot be answered is dropped (UDP) or skipped (TCP), and no
 * input can stop the server.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const log = options.logger.child({ component: "dns" });
  const limits = {
    idleMs: options.tcpIdleMs ?? DEFAULT_TCP_LIMITS.idleMs,
    maxPending: options.tcpMaxPending ?? DEFAULT_TCP_LIMITS.maxPending,
  };
  const maxConnections = options.tcpMaxConnections ?? 512;
  const connections = new Set<Socket>();

  // With port 0, the port the OS gives UDP may be taken for TCP: then try another.
  for (let tries = 0; ; tries += 1) {
    const udp = await bindUdp(options.host, options.port);
    const port = udp.address().port;
    const tcp = createServer((socket) => {
      if (connections.size >= maxConnections) {
        socket.destroy();
        return;
      }
      connections.add(socket);
      socket.once("close", () => connections.delete(socket));
      serveTcpConnection(socket, options.answer, limits, log);
    });
    try {
      await listenTcp(tcp, options.host, port);
    } catch (err) {
      udp.close();
      if (options.port === 0 && (err as NodeJS.ErrnoException).code === "EADDRINUSE" && tries < 5) continue;
      throw err;
    }

    udp.on("error", (err) => log.error({ err }, "dns: UDP socket error"));
    udp.on("message", (message, peer) => {
      options.answer(message, peer.address, "udp").then(
        (reply) => {
          if (reply === null) return;
          try {
            udp.send(reply, peer.port, peer.address);
          } catch {
            // Closed while the answer was being computed: nothing to send it on.
          }
        },
        (err: unknown) => log.error({ err }, "dns: failed to answer a UDP query"),
      );
    });

    return {
      port,
      async close() {
        for (const socket of connections) socket.destroy();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      },
    };
  }
}
