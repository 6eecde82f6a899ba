import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StreamWriter } from "../push/stream-writer.js";

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
