import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StreamWriter } from "../push/stream-writer.js";
import { startTestControlPlane } from "./test-node.js";

/** An object-mode stream that holds each write until `release()`, like a peer that stopped reading. */
function slowStream() {
  const accepted: string[] = [];
  const held: Array<() => void> = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(chunk: string, _encoding, callback) {
      accepted.push(chunk);
      held.push(callback);
    },
  });
  const writeCalls: string[] = [];
  /** Writes made while the stream still waited for 'drain'. */
  const early: string[] = [];
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string) => {
    if (stream.writableNeedDrain) early.push(chunk);
    writeCalls.push(chunk);
    return write(chunk);
  }) as typeof stream.write;
  const release = (): void => {
    for (const callback of held.splice(0)) callback();
  };
  return { stream, accepted, writeCalls, early, release };
}

describe("StreamWriter backpressure", () => {
  it("stops writing once the stream reports it is full and resumes, in order, after 'drain'", async () => {
    const { stream, writeCalls, early, release } = slowStream();
    const writer = new StreamWriter<string>(stream);
    for (const message of ["a", "b", "c", "d", "e"]) writer.write(message);

    // highWaterMark 2: the second write returns false, so the rest wait.
    expect(writeCalls).toEqual(["a", "b"]);
    expect(writer.backlog).toBe(3);

    let drains = 0;
    stream.on("drain", () => drains++);
    // The peer reads again, one step at a time (bounded, so a bug fails instead of hanging).
    for (let step = 0; step < 50 && writeCalls.length < 5; step++) {
      release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(drains).toBeGreaterThan(0);
    expect(early).toEqual([]);
    expect(writeCalls).toEqual(["a", "b", "c", "d", "e"]);
    stream.destroy();
  });

  it("stays busy until the stream drained, then says so once", async () => {
    const { stream, release } = slowStream();
    let drained = 0;
    const writer = new StreamWriter<string>(stream, () => drained++);
    writer.write("a");
    expect(writer.busy).toBe(false);
    writer.write("b");
    expect(writer.busy).toBe(true);
    for (let step = 0; step < 50 && drained === 0; step++) {
      release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writer.busy).toBe(false);
    expect(drained).toBe(1);
    stream.destroy();
  });

  it("drops what is queued and ignores later writes once closed", () => {
    const { stream, writeCalls } = slowStream();
    const writer = new StreamWriter<string>(stream);
    for (const message of ["a", "b", "c"]) writer.write(message);
    writer.close();
    writer.write("d");
    expect(writer.backlog).toBe(0);
    expect(writeCalls).toEqual(["a", "b"]);
    stream.destroy();
  });
});

describe("a node that stops reading", () => {
  it("gets no pushes queued behind a full stream: once it reads again, the latest config arrives", async () => {
    // No batching window: without backpressure every deploy would become a push of its own.
    const cp = await startTestControlPlane({ pushBatchMs: 0 });
    try {
      const node = cp.node();
      node.hello("slow-1");
      node.ack(await node.push(1));
      node.pause();
      // grpc-js buffers 16 messages on each side plus the HTTP/2 windows; 60 large ones overflow that.
      for (let i = 1; i <= 60; i++) {
        await cp.deploy("big", `export default {};\n// ${i} ${"x".repeat(256 * 1024)}`);
        cp.server.hub.notifyChanged();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      node.resume();
      await node.until(() => node.pushes.at(-1)?.upserts[0]?.version === 60, "the push of the last version");
      const received = node.pushes.slice(1).map((p) => p.upserts[0]?.version);
      expect(received.length).toBeLessThan(60);
      expect(received.at(-1)).toBe(60);
    } finally {
      await cp.close();
    }
  });
});
