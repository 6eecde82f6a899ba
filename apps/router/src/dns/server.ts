import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, isIPv6, type Server, type Socket } from "node:net";
import type { Logger } from "pino";

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
  /** A TCP connection with no complete query for this long is closed (RFC 7766 suggests seconds). */
  tcpIdleMs?: number;
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

/** Reads length-prefixed messages off a TCP stream (RFC 1035 §4.2.2) and answers them in order. */
function serveTcpConnection(socket: Socket, answer: AnswerFn, idleMs: number, log: Logger): void {
  let buffered = Buffer.alloc(0);
  let queue = Promise.resolve();
  socket.setTimeout(idleMs, () => socket.end());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length === 0) {
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      queue = queue.then(async () => {
        const reply = await answer(message, socket.remoteAddress ?? "", "tcp").catch((err: unknown) => {
          log.error({ err }, "dns: failed to answer a TCP query");
          return null;
        });
        if (reply === null || socket.destroyed) return;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([prefix, reply]));
      });
    }
  });
}

/**
 * DNS over UDP and TCP on one port. Each message goes to `answer`; a
 * message that cannot be answered is dropped (UDP) or skipped (TCP), and no
 * input can stop the server.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const log = options.logger.child({ component: "dns" });
  const idleMs = options.tcpIdleMs ?? 10_000;
  const connections = new Set<Socket>();

  // With port 0, the port the OS gives UDP may be taken for TCP: then try another.
  for (let tries = 0; ; tries += 1) {
    const udp = await bindUdp(options.host, options.port);
    const port = udp.address().port;
    const tcp = createServer((socket) => {
      connections.add(socket);
      socket.once("close", () => connections.delete(socket));
      serveTcpConnection(socket, options.answer, idleMs, log);
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
