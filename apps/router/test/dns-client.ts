/** Test-side DNS clients: dns-packet over UDP and TCP, and the real `dig`. */
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { type DecodedPacket, decode, encode, type Packet } from "dns-packet";

const WAIT_MS = 3_000;

/** A decoded answer; dns-packet decodes the RCODE name, which its types leave out. */
export type DnsReply = DecodedPacket & { rcode: string };

/** Sends raw bytes over UDP and resolves with the first datagram back. */
export function udpExchange(port: number, messages: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no DNS answer over UDP"));
    }, WAIT_MS);
    socket.once("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    for (const m of messages) socket.send(m, port, "127.0.0.1");
  });
}

export async function udpQuery(port: number, packet: Packet): Promise<DnsReply> {
  return decode(await udpExchange(port, [encode(packet)])) as DnsReply;
}

/** Sends length-prefixed messages on one TCP connection and collects `count` answers. */
export function tcpExchange(port: number, frames: Buffer[], count: number): Promise<DnsReply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("not enough DNS answers over TCP"));
    }, WAIT_MS);
    let buffered = Buffer.alloc(0);
    const answers: DnsReply[] = [];
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        answers.push(decode(buffered.subarray(2, 2 + length)) as DnsReply);
        buffered = buffered.subarray(2 + length);
      }
      if (answers.length >= count) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answers);
      }
    });
    socket.on("error", reject);
    socket.write(Buffer.concat(frames));
  });
}

export function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

export function aQuery(
  name: string,
  options: { id?: number; type?: "A" | "AAAA" | "SOA" | "NS" | "TXT"; subnet?: string } = {},
): Packet {
  const packet: Packet = {
    type: "query",
    id: options.id ?? 4242,
    flags: 0x0100,
    questions: [{ type: options.type ?? "A", class: "IN", name }],
  };
  if (options.subnet !== undefined) {
    const [ip, prefix] = options.subnet.split("/");
    packet.additionals = [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [{ code: 8, ip, sourcePrefixLength: Number(prefix) }],
      },
    ];
  }
  return packet;
}

/** Runs the real `dig` (`/usr/bin/dig`) and returns its output. */
export function dig(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "/usr/bin/dig",
      ["@127.0.0.1", "-p", String(port), "+tries=1", "+time=3", ...args],
      { timeout: 10_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}
