/**
 * ReadableStreamDefaultTee with cloneForBranch2 (Streams standard), as
 * Request/Response clone() use it: the first branch gets the source's chunks,
 * the second structured-clone copies of them, so neither side can change
 * what the other reads. Cancelling one branch leaves the other readable;
 * the source is cancelled when both are.
 */
import { type ReadableStream, webStreams } from "./deps.js";

type Controller = { enqueue(chunk: unknown): void; close(): void; error(reason: unknown): void };

/** A copy of a chunk as structuredClone would make it (views keep their type; other values as they are). */
function cloneChunk(chunk: unknown): unknown {
  if (chunk instanceof ArrayBuffer) return chunk.slice(0);
  if (ArrayBuffer.isView(chunk)) {
    const buffer = (chunk.buffer as ArrayBuffer).slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
    if (chunk instanceof DataView) return new DataView(buffer);
    const View = chunk.constructor as new (buffer: ArrayBuffer) => ArrayBufferView;
    return new View(buffer);
  }
  return chunk;
}

export function cloneTee(stream: ReadableStream): [ReadableStream, ReadableStream] {
  const { ReadableStream: Stream } = webStreams();
  const reader = stream.getReader();
  const controllers: [Controller | null, Controller | null] = [null, null];
  const canceled = [false, false];
  const reasons: unknown[] = [undefined, undefined];
  let reading = false;
  let readAgain = false;
  let resolveCancel!: (value: undefined) => void;
  const cancelPromise = new Promise<undefined>((resolve) => {
    resolveCancel = resolve;
  });

  function pull(): Promise<void> {
    if (reading) {
      readAgain = true;
      return Promise.resolve();
    }
    reading = true;
    reader.read().then(
      (result) => {
        readAgain = false;
        if (result.done) {
          reading = false;
          if (!canceled[0]) controllers[0]!.close();
          if (!canceled[1]) controllers[1]!.close();
          if (!canceled[0] || !canceled[1]) resolveCancel(undefined);
          return;
        }
        if (!canceled[0]) controllers[0]!.enqueue(result.value);
        if (!canceled[1]) controllers[1]!.enqueue(cloneChunk(result.value));
        reading = false;
        if (readAgain) void pull();
      },
      (err: unknown) => {
        reading = false;
        controllers[0]!.error(err);
        controllers[1]!.error(err);
        if (!canceled[0] || !canceled[1]) resolveCancel(undefined);
      },
    );
    return Promise.resolve();
  }

  const branch = (index: 0 | 1): ReadableStream =>
    new Stream({
      start(controller) {
        controllers[index] = controller as unknown as Controller;
      },
      pull,
      cancel(reason) {
        canceled[index] = true;
        reasons[index] = reason;
        if (canceled[0] && canceled[1]) {
          reader.cancel(reasons).then(
            () => resolveCancel(undefined),
            () => resolveCancel(undefined),
          );
        }
        return cancelPromise;
      },
    });
  return [branch(0), branch(1)];
}
