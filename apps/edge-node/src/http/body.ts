import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  readonly code = "EDGE_BODY_TOO_LARGE";
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/**
 * Reads a request body into memory, refusing more than `limit` bytes; each
 * chunk is taken from the node's body budget first (`take` throws past it).
 * Null when there is no body. Once refused, the rest of the body is read and
 * dropped (nothing is held) so the client can still read the error answer.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  take: (bytes: number) => void = () => {},
): Promise<Uint8Array | null> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  // A declared length is taken from the budget up front, so a node at its budget refuses at once.
  let reserved = 0;
  if (Number.isSafeInteger(declared) && declared > 0) {
    try {
      take(declared);
      reserved = declared;
    } catch (err) {
      req.resume();
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      reject(err);
    };
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) return fail(new BodyTooLargeError(limit));
      try {
        if (size > reserved) take(size - Math.max(reserved, size - chunk.length));
      } catch (err) {
        return fail(err as Error);
      }
      chunks.push(chunk);
    });
    req.once("error", fail);
    req.once("close", () => {
      if (!req.complete) fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    });
    req.once("end", () => {
      if (failed) return;
      if (size === 0) resolve(req.method === "GET" || req.method === "HEAD" ? null : new Uint8Array(0));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
  });
}
