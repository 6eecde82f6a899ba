import { RunError, type RunErrorCode } from "./errors.js";
import { chunkFromPull } from "./outcome.js";
import type { LogLine } from "./types.js";

/** Reads a script's streamed response body out of its isolate (see IsolateSession.pull). */
export interface BodyReader {
  pull(all: boolean, maxBytes: number): Promise<unknown>;
  cancel(): Promise<void>;
  context(): {
    cpuMs: number;
    logs: LogLine[];
    codeOf: (code: RunErrorCode, message: string | undefined) => RunErrorCode;
  };
}

/** The whole streamed body at once (the isolate concatenates it), within `maxBytes`. */
export async function readWholeBody(reader: BodyReader, maxBytes: number): Promise<Uint8Array> {
  const chunk = chunkFromPull(await reader.pull(true, maxBytes), reader.context());
  if (chunk === null) return new Uint8Array(0);
  if (chunk.byteLength > maxBytes) throw tooLarge(maxBytes, reader);
  return chunk;
}

function tooLarge(maxBytes: number, reader: BodyReader): RunError {
  return new RunError(
    "EDGE_RESPONSE_TOO_LARGE",
    `The script's response body is larger than the ${maxBytes}-byte limit`,
    reader.context(),
  );
}

/**
 * The body as an async iterator pulling one chunk per step. `done` settles
 * when the body is finished, failed or cancelled, so the isolate can go.
 * `bytes` is a body the isolate already handed over whole.
 */
export function streamBody(
  bytes: Uint8Array | null,
  reader: BodyReader,
  maxBytes: number,
): { body: AsyncIterableIterator<Uint8Array>; done: Promise<void> } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let finished = false;
  let sent = 0;
  const end = (): IteratorResult<Uint8Array> => {
    if (!finished) {
      finished = true;
      finish();
    }
    return { done: true, value: undefined };
  };
  const body: AsyncIterableIterator<Uint8Array> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      if (bytes !== null) {
        const whole = bytes;
        bytes = null;
        end();
        return whole.byteLength === 0 ? { done: true, value: undefined } : { done: false, value: whole };
      }
      try {
        const chunk = chunkFromPull(await reader.pull(false, maxBytes - sent), reader.context());
        if (chunk === null) return end();
        sent += chunk.byteLength;
        if (sent > maxBytes) throw tooLarge(maxBytes, reader);
        return { done: false, value: chunk };
      } catch (err) {
        await reader.cancel();
        end();
        throw err;
      }
    },
    async return() {
      if (!finished && bytes === null) await reader.cancel();
      bytes = null;
      return end();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { body, done };
}
