import { connect, type Socket } from "node:net";
import { encode } from "dns-packet";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../src/dns/server.js";
import { aQuery, frame } from "./dns-client.js";

const IDLE_MS = 300;
/** Answers are made large so that a client that does not read fills the socket buffers quickly. */
const ANSWER_BYTES = 4_096;

async function until(probe: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** DNS over TCP on a real socket: deadlines and backpressure of the server itself (the answer is a stand-in). */
describe("DNS over TCP bounds", () => {
  let server: DnsServer;
  let answered: number;
  let socket: Socket | undefined;

  beforeEach(async () => {
    answered = 0;
    server = await startDnsServer({
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
      tcpIdleMs: IDLE_MS,
      answer: async (raw) => {
        answered += 1;
        return Buffer.concat([raw, Buffer.alloc(ANSWER_BYTES)]);
      },
    });
  });
  afterEach(async () => {
    socket?.destroy();
    await server.close();
  });

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(server.port, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
    });

  it("closes a connection that drips a query one byte at a time, however steady the drip", async () => {
    socket = await open();
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    const query = frame(encode(aQuery("hello.edge.test")));
    let sent = 0;
    // One byte every IDLE_MS / 3: each byte alone would reset a plain idle timer.
    const drip = setInterval(() => {
      if (closed || sent >= query.length) return;
      socket?.write(query.subarray(sent, sent + 1));
      sent += 1;
    }, IDLE_MS / 3);
    try {
      await until(() => closed, "the server to close the drip");
    } finally {
      clearInterval(drip);
    }
    expect(sent).toBeLessThan(query.length);
    expect(answered).toBe(0);
  });

  it("closes a connection left idle after its answers", async () => {
    socket = await open();
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    socket.on("data", () => {});
    socket.write(frame(encode(aQuery("hello.edge.test"))));
    await until(() => answered === 1, "the answer");
    await until(() => closed, "the idle close");
  });

  it("stops reading pipelined queries while the client does not read its answers, then answers all in order", async () => {
    const total = 5_000;
    socket = await open();
    const frames = Buffer.concat(
      Array.from({ length: total }, (_, i) => frame(encode(aQuery("hello.edge.test", { id: i % 65_536 })))),
    );
    socket.write(frames);
    // The client reads nothing: the server must stall well short of answering everything.
    await until(() => answered > 16, "the first answers");
    await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    const stalledAt = answered;
    expect(stalledAt).toBeLessThan(total);
    await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    expect(answered).toBe(stalledAt);

    // Reading again lets everything through, in order.
    const ids: number[] = [];
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        ids.push(buffered.readUInt16BE(2));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
    });
    await until(() => ids.length === total, "every answer", 20_000);
    expect(ids.every((id, i) => id === i % 65_536)).toBe(true);
  });
});
